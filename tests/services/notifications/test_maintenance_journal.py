"""The journal line of `portail families-inapplicable-fields --apply`: the real command empties
fields on a families database of its own, its `person.updated` events go through the
notifications service's consumer, and « Historique de mes actions » (the family's, then
staff's view of it) says the town did it — « Maintenance : champs vidés » — not the family."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from services.kit.database import Database
from services.kit.testing import TestSigner
from services.kit.typography import french_spacing
from tests.browser import PHONE, SCREENSHOTS, chromium, requires_chromium, sign_in_on_page
from tests.gateway.fakes import PASSWORD
from tests.services.families.conftest import FamiliesApi
from tests.services.families.test_inapplicable_cleanup import own_api, run, store, updates

from .mailing import deliver
from .portal import AGENT, PARENT, Portal, make_portal, sign_in
from .smtp_server import SmtpServer

__all__ = ["own_api"]  # the fixture: a families service on a database of its own


def person_lines(page: str) -> list[tuple[str, str]]:
    """(action, detail) of each `person.updated` line of a history page, newest first."""
    rows = re.findall(r'<tr data-event="person.updated">(.*?)</tr>', page, re.DOTALL)
    # Cells: day and time, action, « Par », detail.
    return [
        tuple(_text(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)[1::2]) for row in rows
    ]


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


async def maintained_family(api: FamiliesApi, capsys: pytest.CaptureFixture[str]) -> str:
    """A family whose parent had an allergy and a school emptied by the real command, after an
    agent's ordinary edit of the same person; its id."""
    home = await api.family(name="ETCHEVERRY")
    parent = await api.person(
        home["id"], role="responsable", first_name="Maïa", last_name="Etcheverry"
    )
    await store(api, parent["id"], allergies="Arachide", school="École X")
    edited = await api.client.patch(
        f"/families/{home['id']}/persons/{parent['id']}",
        json={"version": 1, "first_name": "Maïalen"},
        headers=api.staff(),
    )
    assert edited.status == 200, await edited.text()
    assert "1 personne(s) nettoyée(s)" in await run(capsys, "--apply")
    return str(home["id"])


async def journaled(
    api: FamiliesApi, family_id: str, database: Database, service_client: Any, gateway: Any,
    upstream: Any, signer: TestSigner, smtp: SmtpServer,
) -> Portal:  # fmt: skip
    """The gateway and notifications portal of `family_id`, its journal fed with the families
    service's `person.updated` events through the notifications' own consumer."""
    portal = await make_portal(
        database, service_client, gateway, upstream, signer, smtp.port, family_id=family_id
    )
    for message in await updates(api):
        await deliver(database, portal.settings, message)
    return portal


async def test_the_cleanup_reads_as_a_maintenance_in_the_family_and_staff_histories(
    own_api: FamiliesApi, capsys: pytest.CaptureFixture[str], database: Database,
    service_client: Any, gateway: Any, upstream: Any, aiohttp_client: Any, signer: TestSigner,
    smtp: SmtpServer,
) -> None:  # fmt: skip
    family_id = await maintained_family(own_api, capsys)
    portal = await journaled(
        own_api, family_id, database, service_client, gateway, upstream, signer, smtp
    )

    family = portal.client
    await sign_in(family, PARENT)
    french = person_lines(await (await family.get("/historique")).text())
    english = person_lines(await (await family.get("/historique?lang=en")).text())
    staff = await aiohttp_client(family.server)
    await sign_in(staff, AGENT)
    staff_view = person_lines(
        await (await staff.get(f"/agents/familles/{family_id}/historique")).text()
    )

    emptied = "Allergies, École (ne concernaient pas cette personne)"
    assert french == [
        ("Maintenance : champs vidés", emptied),
        ("Informations d'une personne modifiées", ""),
    ]
    assert english[0] == (
        "Maintenance: fields emptied",
        "Allergies, School (did not concern this person)",
    )
    assert staff_view == french


@requires_chromium
@pytest.mark.browser
async def test_the_maintenance_line_on_a_phone_and_a_desktop(
    own_api: FamiliesApi, capsys: pytest.CaptureFixture[str], database: Database,
    service_client: Any, gateway: Any, upstream: Any, signer: TestSigner, smtp: SmtpServer,
) -> None:  # fmt: skip
    family_id = await maintained_family(own_api, capsys)
    portal = await journaled(
        own_api, family_id, database, service_client, gateway, upstream, signer, smtp
    )
    base = str(portal.client.make_url("")).rstrip("/")
    async with chromium() as browser:
        for name, viewport, query, action in (
            ("phone", PHONE, "", "Maintenance : champs vidés"),
            ("desktop", {"width": 1280, "height": 800}, "?lang=en",
             "Maintenance: fields emptied"),
        ):  # fmt: skip
            page = await browser.new_page(viewport=viewport, is_mobile=name == "phone")
            await sign_in_on_page(page, base, PARENT, PASSWORD)
            await page.goto(f"{base}/historique{query}")
            line = page.locator('tr[data-event="person.updated"]').first
            assert french_spacing(action) in await line.inner_text()
            await line.scroll_into_view_if_needed()
            await page.screenshot(path=str(SCREENSHOTS / f"maintenance-journal-{name}.png"))
            await page.close()
