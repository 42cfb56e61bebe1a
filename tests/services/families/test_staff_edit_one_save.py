"""The staff family edit page saves the record and its quotient in one call: all or nothing.

It used to save in two calls (PATCH the family, then PUT its quotient): when the second
failed — another agent's save landing in between (409), the database refusing the quotient,
a server error — the first was already stored while the page said the form was refused.
Through the real gateway and the real families service on this run's PostgreSQL (the wire
between them is a plain pass-through, `wire.py`).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text

from services.kit.keys import DATABASE

from .conftest import FamiliesApi, Portal
from .pages import STAFF_EMAIL, post_form, text_of
from .wire import Wire, wired_portal

CITY, PHONE = "Hasparren", "05 59 29 00 00"  # the family as `wired_portal` creates it
OTHER_AGENT_PHONE = "05 59 44 44 44"


@pytest.fixture
async def wired(
    api: FamiliesApi,
    gateway: Any,
    upstream: Any,
    signer: Any,
    aiohttp_client: Any,
) -> tuple[Portal, Wire]:
    """The portal of `conftest.portal`, the families calls passing through a `Wire`."""
    return await wired_portal(api, gateway, upstream, signer, aiohttp_client)


def staff_form(portal: Portal, **changes: str) -> dict[str, str]:
    """The edit form as the page fills it for the family (version 1), with `changes` typed."""
    family = portal.family
    return {
        "version": "1",
        "name": family["name"],
        "address": family["address"],
        "postal_code": family["postal_code"],
        "city": CITY,
        "phone": PHONE,
        "email": family["email"],
        "status": "active",
        **changes,
    }


QUOTIENT = {"quotient": "640", "quotient_date": "2026-01-05", "quotient_source": "CAF"}


async def save(portal: Portal, **changes: str) -> Any:
    """An agent opens the family's edit page, types `changes` and presses « Enregistrer »."""
    agent = await portal.visitor(STAFF_EMAIL)
    page = f"/agents/familles/{portal.family['id']}/modifier"
    return await post_form(agent, page, page, staff_form(portal, **changes))


async def refused_page(portal: Portal, **changes: str) -> tuple[int, str]:
    """`save`, refused with a 409: the POST's status and the page the agent then reads, the
    form on the record as it is now, which a 303 leads to (post/redirect/get)."""
    agent = await portal.visitor(STAFF_EMAIL)
    page = f"/agents/familles/{portal.family['id']}/modifier"
    refused = await post_form(agent, page, page, staff_form(portal, **changes))
    assert refused.headers.get("Location") == f"{page}?refus=1", await refused.text()
    shown = await agent.get(refused.headers["Location"])
    assert shown.status == 200
    return refused.status, await shown.text()


async def family_updates(api: FamiliesApi, family_id: str) -> list[dict[str, Any]]:
    """The `family.updated` events of the family: who saved which fields."""
    return [
        {"fields": e["data"]["fields"], "by": e["data"]["by"]}
        for e in await api.events("family.updated", family_id=family_id)
    ]


async def test_a_save_writes_the_record_and_its_quotient_in_one_call_with_their_events(
    wired: tuple[Portal, Wire],
) -> None:
    portal, wire = wired
    family_id = portal.family["id"]

    saved = await save(portal, city="Anglet", phone="05 59 11 11 11", **QUOTIENT)

    assert saved.status == 303, text_of(await saved.text())
    assert saved.headers["Location"] == f"/agents/familles/{family_id}?ok=modifie"
    assert wire.writes == [f"PATCH /families/{family_id}"]
    record = await portal.api.read_family(family_id)
    assert (record["city"], record["phone"]) == ("Anglet", "05 59 11 11 11")
    assert (record["quotient"], record["quotient_date"], record["quotient_source"]) == (
        640, "2026-01-05", "CAF",
    )  # fmt: skip
    # The journal's lines, as the two calls wrote them: the family's fields, then the quotient.
    assert await family_updates(portal.api, family_id) == [
        {"fields": ["city", "phone"], "by": STAFF_EMAIL},
        {"fields": ["quotient"], "by": STAFF_EMAIL},
    ]


async def test_another_agents_save_landing_mid_save_leaves_the_form_unsaved_and_says_so(
    wired: tuple[Portal, Wire],
) -> None:
    portal, wire = wired
    api, family_id = portal.api, portal.family["id"]

    async def another_agent_saves() -> None:
        current = await api.read_family(family_id)
        saved = await api.client.patch(
            f"/families/{family_id}",
            json={"version": current["version"], "phone": OTHER_AGENT_PHONE},
            headers=api.signer.headers(role="staff", subject="agent-2"),
        )
        assert saved.status == 200, await saved.text()

    wire.before_quotient_write = another_agent_saves
    status, html = await refused_page(portal, city="Anglet", **QUOTIENT)

    assert wire.before_quotient_write is None, "the competing save did not run"
    assert status == 303
    assert "Ce dossier a été modifié entre-temps (par un autre agent" in text_of(html)
    assert 'value="Anglet"' in html  # what the agent typed is still in the form
    assert f'value="{OTHER_AGENT_PHONE}"' in html  # on the record as it is now
    record = await api.read_family(family_id)
    assert (record["city"], record["quotient"]) == (CITY, None)  # nothing of this form
    assert record["phone"] == OTHER_AGENT_PHONE  # the other agent's save stands
    assert await family_updates(api, family_id) == [{"fields": ["phone"], "by": "agent-2"}]


@pytest.fixture
async def database_refusing_quotient(api: FamiliesApi) -> AsyncIterator[Any]:
    """Make the database refuse quotient 777 on one family, with a given SQLSTATE."""
    installed: list[str] = []

    async def install(family_id: str, sqlstate: str) -> None:
        name = f"refuse_quotient_{uuid.uuid4().hex[:8]}"
        installed.append(name)
        statements = (
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"RAISE EXCEPTION 'quotient refused by the test' USING ERRCODE = '{sqlstate}'; "
            "END $$",
            f"CREATE TRIGGER {name} BEFORE UPDATE ON families FOR EACH ROW "
            f"WHEN (NEW.id = '{family_id}' AND NEW.quotient = 777) EXECUTE FUNCTION {name}()",
        )
        await _execute(api, statements)

    yield install
    for name in installed:
        await _execute(api, (f"DROP TRIGGER {name} ON families", f"DROP FUNCTION {name}()"))


async def _execute(api: FamiliesApi, statements: tuple[str, ...]) -> None:
    async with api.client.app[DATABASE].transaction() as session:
        for statement in statements:
            await session.execute(text(statement))


CONSTRAINT_REFUSED = "Cette modification contredit les données enregistrées : rien n'a été modifié."
NOT_SAVED = (
    "Le dossier n'a pas pu être enregistré, rien n'a été modifié : réessayez dans un instant."
)


@pytest.mark.parametrize(
    ("sqlstate", "status", "message"),
    [
        ("23514", 409, CONSTRAINT_REFUSED),  # a check constraint: the service answers 409
        ("P0001", 502, NOT_SAVED),  # the write fails outright: the service answers 500
    ],
)
async def test_a_quotient_the_database_refuses_leaves_the_whole_form_unsaved(
    wired: tuple[Portal, Wire],
    database_refusing_quotient: Any,
    sqlstate: str,
    status: int,
    message: str,
) -> None:
    portal, _wire = wired
    api, family_id = portal.api, portal.family["id"]
    await database_refusing_quotient(family_id, sqlstate)

    typed = {"city": "Anglet", **QUOTIENT, "quotient": "777"}
    if status == 409:  # post/redirect/get: the page after the refusal is a GET
        answered, html = await refused_page(portal, **typed)
        assert answered == 303
    else:
        refused = await save(portal, **typed)
        assert refused.status == status
        html = await refused.text()

    record = await api.read_family(family_id)
    assert (record["city"], record["quotient"], record["version"]) == (CITY, None, 1)
    assert await family_updates(api, family_id) == []
    assert message in text_of(html)


MAYBE_SAVED = (
    "Le service des familles n'a pas répondu à temps : le dossier a pu être enregistré, en "
    "entier ou pas du tout. Rechargez-le pour le vérifier avant de recommencer."
)


async def test_a_save_the_service_is_too_slow_to_answer_is_never_half_made(
    api: FamiliesApi, gateway: Any, upstream: Any, signer: Any, aiohttp_client: Any
) -> None:
    # The gateway gives up after 2.5 s; the family's row is held meanwhile (another writer's
    # long transaction), and the service finishes the save once it is let go.
    portal, _wire = await wired_portal(api, gateway, upstream, signer, aiohttp_client, deadline=2.5)
    family_id = portal.family["id"]
    async with api.client.app[DATABASE].transaction() as holding:
        await holding.execute(
            text("SELECT id FROM families WHERE id = :id FOR UPDATE"), {"id": family_id}
        )
        answer = await save(portal, city="Anglet", **QUOTIENT)

    record = await api.read_family(family_id)
    for _ in range(100):  # the service's save, finishing after the page answered
        if record["version"] != 1:
            break
        await asyncio.sleep(0.1)
        record = await api.read_family(family_id)
    assert (record["city"], record["quotient"]) in {("Anglet", 640), (CITY, None)}, record
    assert answer.status == 504
    html = await answer.text()
    assert MAYBE_SAVED in text_of(html)
    assert f'href="/agents/familles/{family_id}/modifier"' in html  # « Recharger le dossier »
