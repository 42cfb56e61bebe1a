"""A municipal system reads every reservation and registration, page by page, even when a
closure changed hundreds of them in one transaction (one `updated_at`)."""

from __future__ import annotations

from typing import Any

from services.kit.testing import TestSigner

from .conftest import ContractStandIn
from .factories import staff
from .planning import book, save, setup_reservations

WED = "2027-04-21"


def _reader(signer: TestSigner) -> dict[str, str]:
    return signer.headers(role="service", scopes=["bookings:read"])


async def _every_page(client: Any, path: str, headers: dict[str, str], **params: Any) -> list:
    pages = []
    response = await client.get(path, params=params, headers=headers)
    for _ in range(10):
        assert response.status == 200, await response.text()
        body = await response.json()
        pages.append([item["id"] for item in body["items"]])
        if body["next_cursor"] is None:
            return pages
        params = {**params, "cursor": body["next_cursor"]}  # the same filters, from there on
        response = await client.get(path, params=params, headers=headers)
    raise AssertionError(f"still paging after 10 pages: {pages}")


async def test_reservations_changed_in_one_transaction_are_read_page_by_page(
    bookings: Any, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    setup = await setup_reservations(bookings, signer, stand_in, children=5)
    for family_id, person_id in setup.children:
        await save(bookings, signer, family_id, [book(person_id, setup.opening(WED))])
    closed = await bookings.post(
        f"/activities/{setup.activity['id']}/closure-cancellations",
        json={"day": WED, "reason": "grève"},
        headers=staff(signer),
    )
    assert (await closed.json())["cancelled"] == 5
    everything = await bookings.get(
        "/reservations", params={"activity_id": setup.activity["id"]}, headers=_reader(signer)
    )
    ids = [r["id"] for r in (await everything.json())["items"]]
    assert len({r["updated_at"] for r in (await everything.json())["items"]}) == 1

    pages = await _every_page(
        bookings, "/reservations", _reader(signer),
        activity_id=setup.activity["id"], since="2027-01-01T00:00:00Z", limit=2,
    )  # fmt: skip

    assert [len(page) for page in pages] == [2, 2, 1]
    assert sorted(i for page in pages for i in page) == sorted(ids)


async def test_registrations_are_read_page_by_page(
    bookings: Any, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    setup = await setup_reservations(bookings, signer, stand_in, children=3)
    mine = await bookings.get(
        "/registrations", params={"activity_id": setup.activity["id"]}, headers=_reader(signer)
    )
    ids = [r["id"] for r in (await mine.json())["items"]]

    pages = await _every_page(
        bookings, "/registrations", _reader(signer),
        activity_id=setup.activity["id"], since="2027-01-01T00:00:00Z", limit=2,
    )  # fmt: skip

    assert [len(page) for page in pages] == [2, 1]
    assert sorted(i for page in pages for i in page) == sorted(ids)


async def test_a_since_without_zone_is_paris_time_and_a_bad_cursor_is_named(
    bookings: Any, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    setup = await setup_reservations(bookings, signer, stand_in)
    family_id, person_id = setup.children[0]
    await save(bookings, signer, family_id, [book(person_id, setup.opening(WED))])
    everything = await bookings.get(
        "/reservations", params={"person_id": person_id}, headers=_reader(signer)
    )
    [made] = (await everything.json())["items"]
    assert made["updated_at"] == "2027-03-30T08:00:00Z"  # the tests' frozen clock

    # 09:30 in Paris (summer time) is 07:30 UTC: before the change, so it is listed.
    paris = await bookings.get(
        "/reservations",
        params={"person_id": person_id, "since": "2027-03-30T09:30:00"},
        headers=_reader(signer),
    )
    assert [r["id"] for r in (await paris.json())["items"]] == [made["id"]]

    bad = await bookings.get("/reservations", params={"cursor": "xyz"}, headers=_reader(signer))
    assert bad.status == 422
    assert bad.headers["Content-Type"].startswith("application/problem+json")
    assert [e["field"] for e in (await bad.json())["errors"]] == ["cursor"]


async def test_a_system_that_may_change_bookings_may_read_them(
    bookings: Any, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    # bookings:write included no read (families:write and billing:write include theirs): a
    # system pushing closures got 403 reading the reservations it had just cancelled.
    setup = await setup_reservations(bookings, signer, stand_in)
    writer = signer.headers(role="service", scopes=["bookings:write"])
    for path in ("/reservations", "/activities", f"/activities/{setup.activity['id']}"):
        response = await bookings.get(path, headers=writer)
        assert response.status == 200, (path, await response.text())
    lines = await bookings.get("/billable-lines", params={"month": "2027-04"}, headers=writer)
    assert lines.status == 200, await lines.text()
    other = signer.headers(role="service", scopes=["billing:write"])
    assert (await bookings.get("/reservations", headers=other)).status == 403
