"""A private calendar link stops working when the account that made it is disabled (auth
marks it, kit/lapse_marks.py), when its family is archived (families marks it), and when
the link is renewed — a 404 with no calendar in it, the real auth and families services
sharing this run's Redis with the real bookings service (docs/bookings.md, « Calendar »)."""

from __future__ import annotations

import time
from typing import Any

from aiohttp.test_utils import TestClient

from services.kit.testing import TestSigner
from tests.gateway.conftest import gateway  # noqa: F401 - auth_client's families stand behind it
from tests.services.auth.conftest import (
    FAMILIES_OF,
    active_family,
    auth_client,  # noqa: F401 - the real auth service
    ensure_family,
    staff_headers,
)

from .conftest import ContractStandIn
from .factories import staff
from .planning import book, save, setup_reservations

WED = "2027-04-21"


async def _link(bookings: TestClient, headers: dict[str, str], family_id: str, child: str) -> str:
    made = await bookings.post(
        f"/families/{family_id}/persons/{child}/calendar-feed", headers=headers
    )
    assert made.status == 201, await made.text()
    return str((await made.json())["path"]).removeprefix("/api/bookings")


async def _served(bookings: TestClient, path: str) -> bool:
    """True when the link serves the calendar; False for a 404 that holds none of it."""
    answer = await bookings.get(path)
    text = await answer.text()
    if answer.status == 200:
        assert "BEGIN:VEVENT" in text
        return True
    assert answer.status == 404, (answer.status, text)
    assert "VCALENDAR" not in text and answer.content_type == "application/problem+json"
    return False


def _signed_after(signer: TestSigner, family_id: str, account_id: str) -> dict[str, str]:
    """A token signed after this moment's marks (`iat` counts whole seconds: the next one)."""
    return signer.headers(families=[family_id], subject=account_id, iat=int(time.time()) + 1)


async def _booked_family(bookings: TestClient, signer: TestSigner, stand_in: ContractStandIn):  # type: ignore[no-untyped-def]
    setup = await setup_reservations(bookings, signer, stand_in, children=2)
    for family_id, child in setup.children:
        await save(bookings, signer, family_id, [book(child, setup.opening(WED))])
    return setup.children


async def test_a_link_stops_for_good_when_the_account_that_made_it_is_disabled(
    bookings: TestClient,
    signer: TestSigner,
    stand_in: ContractStandIn,
    auth_client: Any,  # noqa: F811 - the fixture imported above
) -> None:
    (family_id, child), (other_family, other_child) = await _booked_family(
        bookings, signer, stand_in
    )
    auth = await auth_client()
    account_id = (await active_family(auth, signer, family_id=family_id))["account"]["id"]
    as_account = signer.headers(families=[family_id], subject=account_id)
    path = await _link(bookings, as_account, family_id, child)
    # Another family's link, made by another account: untouched by this account's fate.
    other = await _link(
        bookings, signer.headers(families=[other_family]), other_family, other_child
    )
    assert await _served(bookings, path) and await _served(bookings, other)

    disabled = await auth.post(f"/accounts/{account_id}/disable", headers=staff_headers(signer))
    assert disabled.status == 200, await disabled.text()
    assert not await _served(bookings, path)
    assert await _served(bookings, other)

    # Enabled again, the account's old link stays dead; a link it makes now (signed in again:
    # a token signed after the lapse) works.
    enabled = await auth.post(f"/accounts/{account_id}/enable", headers=staff_headers(signer))
    assert enabled.status == 200, await enabled.text()
    assert not await _served(bookings, path)
    signed_in_again = _signed_after(signer, family_id, account_id)
    assert await _served(bookings, await _link(bookings, signed_in_again, family_id, child))


async def test_a_renewed_link_leaves_the_old_one_dead(
    bookings: TestClient, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    (family_id, child), _ = await _booked_family(bookings, signer, stand_in)
    as_parent = signer.headers(families=[family_id])
    old = await _link(bookings, as_parent, family_id, child)
    new = await _link(bookings, as_parent, family_id, child)
    assert not await _served(bookings, old)
    assert await _served(bookings, new)


async def test_a_link_stops_for_good_when_its_family_is_archived(
    bookings: TestClient,
    signer: TestSigner,
    stand_in: ContractStandIn,
    auth_client: Any,  # noqa: F811 - the fixture imported above
) -> None:
    (family_id, child), (other_family, other_child) = await _booked_family(
        bookings, signer, stand_in
    )
    auth = await auth_client()
    await ensure_family(auth, family_id)
    families = FAMILIES_OF[auth]
    path = await _link(bookings, signer.headers(families=[family_id]), family_id, child)
    other = await _link(
        bookings, signer.headers(families=[other_family]), other_family, other_child
    )
    assert await _served(bookings, path)

    for status in ("archived", "active"):
        record = await families.get(f"/families/{family_id}", headers=staff_headers(signer))
        version = (await record.json())["version"]
        changed = await families.patch(
            f"/families/{family_id}",
            json={"version": version, "status": status},
            headers=staff_headers(signer),
        )
        assert changed.status == 200, await changed.text()
        # Archived, then active again: the link made before stays dead.
        assert not await _served(bookings, path)
    assert await _served(bookings, other)
    made_now = _signed_after(signer, family_id, "test-account")
    assert await _served(bookings, await _link(bookings, made_now, family_id, child))


async def test_a_link_stops_when_its_maker_is_removed_from_the_family(
    bookings: TestClient,
    signer: TestSigner,
    stand_in: ContractStandIn,
    auth_client: Any,  # noqa: F811 - the fixture imported above
) -> None:
    (family_id, child), _ = await _booked_family(bookings, signer, stand_in)
    auth = await auth_client()
    account_id = (await active_family(auth, signer, family_id=family_id))["account"]["id"]
    path = await _link(
        bookings, signer.headers(families=[family_id], subject=account_id), family_id, child
    )
    by_agent = await _link(bookings, staff(signer), family_id, child)
    # The agent's link replaced the parent's: the parent makes theirs again.
    path = await _link(
        bookings, signer.headers(families=[family_id], subject=account_id), family_id, child
    )
    assert not await _served(bookings, by_agent) and await _served(bookings, path)

    removed = await auth.delete(
        f"/accounts/{account_id}/memberships/{family_id}", headers=staff_headers(signer)
    )
    assert removed.status == 200, await removed.text()
    assert not await _served(bookings, path)
    added = await auth.post(
        f"/accounts/{account_id}/memberships",
        json={"family_id": family_id},
        headers=staff_headers(signer),
    )
    assert added.status == 201, await added.text()
    assert not await _served(bookings, path)


async def test_a_link_is_not_served_when_the_marks_cannot_be_read(
    bookings_app: Any, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    """Redis out of reach: a 503 to try again later, never the calendar of a family whose
    account may have been disabled meanwhile — nor a new link (its maker may have lapsed)."""
    bookings = await bookings_app()
    (family_id, child), _ = await _booked_family(bookings, signer, stand_in)
    path = await _link(bookings, signer.headers(families=[family_id]), family_id, child)
    cut_off = await bookings_app(redis_url="redis://127.0.0.1:1/0")  # the same database
    answer = await cut_off.get(path)
    assert answer.status == 503 and answer.headers["Retry-After"] == "60"
    assert "VCALENDAR" not in await answer.text()
    made = await cut_off.post(
        f"/families/{family_id}/persons/{child}/calendar-feed",
        headers=signer.headers(families=[family_id]),
    )
    assert made.status == 503 and made.headers["Retry-After"] == "60"


async def test_a_token_signed_before_a_lapse_makes_no_link_after_it(
    bookings: TestClient,
    signer: TestSigner,
    stand_in: ContractStandIn,
    auth_client: Any,  # noqa: F811 - the fixture imported above
) -> None:
    """An access token lives on for minutes after its account is disabled, removed from the
    family or the family archived: a link it makes then (dated after the mark) must not be a
    way around the lapse — it is refused, and nothing serves the family's calendar."""
    (family_id, child), (other_family, other_child) = await _booked_family(
        bookings, signer, stand_in
    )
    auth = await auth_client()
    account_id = (await active_family(auth, signer, family_id=family_id))["account"]["id"]
    before = signer.headers(families=[family_id], subject=account_id)
    disabled = await auth.post(f"/accounts/{account_id}/disable", headers=staff_headers(signer))
    assert disabled.status == 200, await disabled.text()

    made = await bookings.post(
        f"/families/{family_id}/persons/{child}/calendar-feed", headers=before
    )
    assert made.status == 401, (made.status, await made.text())
    assert made.content_type == "application/problem+json"
    assert "path" not in await made.json()

    # Removed from the other family with a token still naming it: the same.
    other = (await active_family(auth, signer, family_id=other_family))["account"]["id"]
    still_member = signer.headers(families=[other_family], subject=other)
    removed = await auth.delete(
        f"/accounts/{other}/memberships/{other_family}", headers=staff_headers(signer)
    )
    assert removed.status == 200, await removed.text()
    made = await bookings.post(
        f"/families/{other_family}/persons/{other_child}/calendar-feed", headers=still_member
    )
    assert made.status == 401, (made.status, await made.text())

    # A token signed after the account was enabled again makes a working link.
    enabled = await auth.post(f"/accounts/{account_id}/enable", headers=staff_headers(signer))
    assert enabled.status == 200, await enabled.text()
    after = _signed_after(signer, family_id, account_id)
    assert await _served(bookings, await _link(bookings, after, family_id, child))
