"""The staff's family record opens on what an agent checks — how many people and children, since
when, the benefits number — not on « Identifiant : <uuid> — version N »; the id stays at the
bottom under « Référence technique », for support; the invitation link carries it. Through the
real gateway and families service, and in Chromium on a phone and a desktop."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import update

from services.families.models import Family
from services.kit.keys import DATABASE
from tests.browser import PHONE, SCREENSHOTS, chromium, requires_chromium, sign_in_on_page
from tests.gateway.fakes import PASSWORD

from .conftest import Portal
from .pages import STAFF_EMAIL, text_of

DESKTOP = {"width": 1280, "height": 900}
CREATED = datetime(2026, 3, 12, 9, 0, tzinfo=UTC)
FRENCH_SUMMARY = (
    "3 personnes (dont 2 enfants) — dossier créé le 12/03/2026 — N° d'allocataire CAF 1234567"
)
ENGLISH_SUMMARY = (
    "3 people (including 2 children) — record created on 12 March 2026 — "
    "Benefits claimant number CAF 1234567"
)


async def household(portal: Portal) -> dict[str, Any]:
    """A family of three (a parent, two children) with its CAF number, created on 12/03/2026."""
    family = await portal.api.family(
        name="ETCHEBERRY", allocataire_regime="CAF", allocataire_number="1234567"
    )
    await portal.api.person(family["id"], role="responsable", first_name="Maddi")
    await portal.api.person(family["id"], first_name="Peio", birth_date="2018-02-01")
    await portal.api.person(family["id"], first_name="Ane", birth_date="2020-09-30")
    async with portal.api.client.app[DATABASE].transaction() as session:
        await session.execute(
            update(Family).where(Family.id == family["id"]).values(created_at=CREATED)
        )
    return family


def summary_of(html: str) -> str:
    match = re.search(r"<p[^>]*data-summary[^>]*>(.*?)</p>", html, re.S)
    assert match, "no summary on the record"
    return text_of(match.group(1))


async def test_the_record_opens_on_the_household_and_keeps_the_id_as_a_technical_reference(
    portal: Portal,
) -> None:
    family = await household(portal)
    agent = await portal.visitor(STAFF_EMAIL)
    html = await (await agent.get(f"/agents/familles/{family['id']}")).text()
    shown = text_of(html)

    assert summary_of(html) == FRENCH_SUMMARY
    assert shown.index("Famille ETCHEBERRY") < shown.index(FRENCH_SUMMARY)
    assert "Identifiant :" not in shown and "version" not in shown
    # The id is read once, at the bottom, under its label.
    assert shown.count(family["id"]) == 1
    assert shown.index("Référence technique") < shown.index(family["id"])
    assert shown.index("Demandes de modification") < shown.index("Référence technique")
    assert "Identifiant de la famille, à donner au support :" in shown

    english = await (await agent.get(f"/agents/familles/{family['id']}?lang=en")).text()
    assert summary_of(english) == ENGLISH_SUMMARY
    assert "Technical reference" in text_of(english)


async def test_inviting_from_the_record_fills_the_form_with_the_family_and_names_it(
    portal: Portal,
) -> None:
    family = await household(portal)
    agent = await portal.visitor(STAFF_EMAIL)
    record = await (await agent.get(f"/agents/familles/{family['id']}")).text()
    link = re.search(r'<a href="(/agents/comptes/inviter\?[^"]+)"', record)
    assert link, "no invitation link on the record"
    form = await (await agent.get(html.unescape(link.group(1)))).text()
    assert f'name="family_id" type="text" required maxlength="36" value="{family["id"]}"' in form
    assert f'value="{family["email"]}"' in form
    assert "Famille ETCHEBERRY" in text_of(form.split('id="family-name"')[1])
    # An id that is no family's is kept as typed, and names nobody.
    unknown = await (await agent.get("/agents/comptes/inviter?famille=not-a-family")).text()
    assert 'value="not-a-family"' in unknown and 'id="family-name"' not in unknown


async def test_a_family_without_children_nor_number_reads_a_short_summary_archived_said(
    portal: Portal,
) -> None:
    family = await portal.api.family(name="SEULE")
    await portal.api.person(family["id"], role="responsable", first_name="Maite")
    agent = await portal.visitor(STAFF_EMAIL)
    html = await (await agent.get(f"/agents/familles/{family['id']}")).text()
    summary = summary_of(html)
    assert summary.startswith("1 personne — dossier créé le ")
    assert "enfant" not in summary and "allocataire" not in summary and "Archivé" not in summary

    archived = await portal.api.client.patch(
        f"/families/{family['id']}",
        json={"status": "archived", "version": family["version"]},
        headers=portal.api.staff(),
    )
    assert archived.status == 200, await archived.text()
    html = await (await agent.get(f"/agents/familles/{family['id']}")).text()
    assert summary_of(html).endswith(" — Archivé")


@pytest.mark.browser
@requires_chromium
@pytest.mark.parametrize(("size", "viewport"), [("phone", PHONE), ("desktop", DESKTOP)])
async def test_the_record_reads_well_on_a_phone_and_a_desktop(
    portal: Portal, size: str, viewport: dict[str, int]
) -> None:
    family = await household(portal)
    base = portal.base_url
    async with chromium() as browser:
        page = await browser.new_page(viewport=viewport, is_mobile=size == "phone")
        await sign_in_on_page(page, base, STAFF_EMAIL, PASSWORD)
        await page.goto(f"{base}/agents/familles/{family['id']}")
        summary = page.locator("[data-summary]")
        assert " ".join((await summary.inner_text()).split()) == FRENCH_SUMMARY
        reference = page.locator("[data-technical-reference]")
        assert not await reference.locator("code").is_visible()  # folded until asked for
        await reference.locator("summary").click()
        assert await reference.locator("code").inner_text() == family["id"]
        assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        await page.screenshot(path=str(SCREENSHOTS / f"family-record-{size}.png"), full_page=True)
