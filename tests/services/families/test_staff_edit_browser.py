"""The staff family edit page after a refused save, in a real (headless) Chromium, on a phone
and a desktop, through the real gateway and the real families service (conftest's `portal`).

Another agent saves the family while this one is typing: « Enregistrer » is refused whole,
nothing is saved, and a 303 leads to the form on the record as it is now (a reload posts
nothing again), which says why in French at the top and keeps what was typed where it does
not clash with the other agent's save. Screenshots:
/tmp/families-staff-edit-conflict-{phone,desktop}.png, /tmp/families-staff-edit-clash-phone.png,
/tmp/families-staff-edit-clash-desktop-en.png; and, when the service is too slow to answer,
/tmp/families-staff-edit-timeout-phone.png.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from services.kit.keys import DATABASE
from services.kit.typography import french_spacing
from tests.browser import PHONE, SCREENSHOTS, accessibility_violations, chromium, requires_chromium

from .conftest import FamiliesApi, Portal
from .pages import STAFF_EMAIL
from .wire import wired_portal

pytestmark = [pytest.mark.browser, requires_chromium]

DESKTOP = {"width": 1280, "height": 900}
CHANGED = "Ce dossier a été modifié entre-temps (par un autre agent, ou une demande acceptée)"


async def staff_page(browser: Any, portal: Portal, **options: Any) -> Any:
    """A browser page with an agent's session, opened through the gateway's sign-in."""
    visitor = await portal.visitor(STAFF_EMAIL)
    context = await browser.new_context(**options)
    await context.add_cookies(
        [
            {"name": cookie.key, "value": cookie.value, "url": portal.base_url}
            for cookie in visitor.session.cookie_jar
        ]
    )
    return await context.new_page()


async def another_agent_saves(portal: Portal, phone: str) -> None:
    """A second agent changes the family's phone (the API, at the current version)."""
    api, family_id = portal.api, portal.family["id"]
    current = await api.read_family(family_id)
    saved = await api.client.patch(
        f"/families/{family_id}",
        json={"version": current["version"], "phone": phone},
        headers=api.signer.headers(role="staff", subject="agent-2"),
    )
    assert saved.status == 200, await saved.text()


@pytest.mark.parametrize(
    ("name", "options", "phone"),
    [
        ("phone", {"viewport": PHONE, "is_mobile": True}, "05 59 44 44 44"),
        ("desktop", {"viewport": DESKTOP}, "05 59 55 55 55"),
    ],
)
async def test_a_save_refused_by_another_agents_save_is_no_trap(
    portal: Portal, name: str, options: dict[str, Any], phone: str
) -> None:
    """Post/redirect/get: the page after the refusal is a GET (a reload posts nothing) on the
    record as it is now, the other agent's phone in it and this agent's changes kept."""
    family_id = portal.family["id"]
    edit = f"/agents/familles/{family_id}/modifier"
    async with chromium() as browser:
        page = await staff_page(browser, portal, locale="fr-FR", **options)
        await page.goto(f"{portal.base_url}{edit}")
        await page.get_by_label("Commune").fill("Anglet")
        await page.get_by_label("Quotient familial").fill("640")
        await page.get_by_label("Date du quotient").fill("2026-01-05")
        await page.get_by_label("Source du quotient").select_option("CAF")
        await another_agent_saves(portal, phone)

        posts: list[str] = []
        page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
        await page.get_by_role("button", name="Enregistrer").click()
        await page.wait_for_load_state()
        assert len(posts) == 1

        assert page.url.endswith(f"{edit}?refus=1"), page.url
        said = await page.get_by_role("alert").inner_text()
        assert CHANGED in said, said
        assert french_spacing("Commune : Anglet") in said
        assert french_spacing("Quotient familial : 640") in said
        assert await page.get_by_label("Commune").input_value() == "Anglet"
        assert await page.get_by_label("Quotient familial").input_value() == "640"
        assert await page.get_by_label("Téléphone du domicile").input_value() == phone
        await page.screenshot(
            path=str(SCREENSHOTS / f"families-staff-edit-conflict-{name}.png"), full_page=True
        )
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= await page.evaluate("window.innerWidth"), width
        assert await accessibility_violations(page) == []

        await page.reload()
        await page.wait_for_load_state()
        assert len(posts) == 1, posts  # the reload posted nothing
        assert CHANGED in await page.get_by_role("alert").inner_text()
        record = await portal.api.read_family(family_id)
        assert (record["city"], record["quotient"], record["phone"]) == ("Hasparren", None, phone)

        # Saved again from this form: the agent's changes and the other agent's phone stand.
        await page.get_by_role("button", name="Enregistrer").click()
        await page.wait_for_load_state()
        assert page.url.endswith(f"/agents/familles/{family_id}?ok=modifie"), page.url
    record = await portal.api.read_family(family_id)
    assert (record["city"], record["quotient"], record["phone"]) == ("Anglet", 640, phone)


async def test_a_field_both_agents_changed_shows_the_record_and_what_was_typed(
    portal: Portal,
) -> None:
    """The phone both agents changed: the form holds the other agent's (saved) phone, says so
    next to the field and recalls this agent's; the agent's other change is kept. English
    too."""
    family_id = portal.family["id"]
    edit = f"/agents/familles/{family_id}/modifier"
    async with chromium() as browser:
        page = await staff_page(browser, portal, locale="fr-FR", viewport=PHONE, is_mobile=True)
        await page.goto(f"{portal.base_url}{edit}")
        await page.get_by_label("Commune").fill("Anglet")
        await page.get_by_label("Téléphone du domicile").fill("06 12 34 56 78")
        await another_agent_saves(portal, "05 59 44 44 44")
        await page.get_by_role("button", name="Enregistrer").click()
        await page.wait_for_load_state()

        assert page.url.endswith(f"{edit}?refus=1"), page.url
        said = await page.get_by_role("alert").inner_text()
        assert french_spacing("Téléphone du domicile : 06 12 34 56 78") in said, said
        assert french_spacing("Téléphone du domicile : Modifié entre-temps") in said, said
        phone = page.get_by_label("Téléphone du domicile")
        assert await phone.input_value() == "05 59 44 44 44"
        assert await phone.get_attribute("aria-invalid") == "true"
        assert await page.get_by_label("Commune").input_value() == "Anglet"
        await page.screenshot(
            path=str(SCREENSHOTS / "families-staff-edit-clash-phone.png"), full_page=True
        )
        assert await accessibility_violations(page) == []

        await page.goto(f"{portal.base_url}{edit}?refus=1&lang=en")
        english = await page.get_by_role("alert").inner_text()
        assert "This record was changed meanwhile" in english, english
        assert "What you had typed (not saved):" in english, english
        assert "Changed meanwhile" in english, english
        await page.set_viewport_size(DESKTOP)
        await page.screenshot(
            path=str(SCREENSHOTS / "families-staff-edit-clash-desktop-en.png"), full_page=True
        )


async def test_a_save_the_service_is_too_slow_to_answer_says_to_check_on_a_phone(
    api: FamiliesApi, gateway: Any, upstream: Any, signer: Any, aiohttp_client: Any
) -> None:
    portal, _wire = await wired_portal(api, gateway, upstream, signer, aiohttp_client, deadline=2.5)
    family_id = portal.family["id"]
    async with chromium() as browser:
        page = await staff_page(browser, portal, locale="fr-FR", viewport=PHONE, is_mobile=True)
        await page.goto(f"{portal.base_url}/agents/familles/{family_id}/modifier")
        await page.get_by_label("Commune").fill("Anglet")
        async with api.client.app[DATABASE].transaction() as holding:  # another long writer
            await holding.execute(
                text("SELECT id FROM families WHERE id = :id FOR UPDATE"), {"id": family_id}
            )
            await page.get_by_role("button", name="Enregistrer").click()
            await page.wait_for_load_state()
            alert = page.get_by_role("alert")
            assert "n'a pas répondu à temps" in await alert.inner_text()
        await page.screenshot(
            path=str(SCREENSHOTS / "families-staff-edit-timeout-phone.png"), full_page=True
        )
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= await page.evaluate("window.innerWidth"), width
        await alert.get_by_role("link", name="Recharger le dossier").click()
        await page.wait_for_load_state()
        assert await page.get_by_label("Commune").input_value() == "Anglet"  # it went through


async def test_a_persons_save_refused_by_another_agents_save_is_no_trap_either(
    portal: Portal,
) -> None:
    """« Modifier Enfant TEST » (staff): the same post/redirect/get on a person's form."""
    api, family_id = portal.api, portal.family["id"]
    listed = await api.client.get(f"/families/{family_id}/persons", headers=api.staff())
    [child] = [p for p in await listed.json() if p["role"] == "child"]
    edit = f"/agents/familles/{family_id}/personnes/{child['id']}/modifier"
    async with chromium() as browser:
        page = await staff_page(browser, portal, locale="fr-FR", viewport=PHONE, is_mobile=True)
        await page.goto(f"{portal.base_url}{edit}")
        await page.get_by_label("Médecin traitant").fill("Dr Irigoyen")
        saved = await api.client.patch(
            f"/families/{family_id}/persons/{child['id']}",
            json={"version": child["version"], "school": "École du bourg"},
            headers=api.signer.headers(role="staff", subject="agent-2"),
        )
        assert saved.status == 200, await saved.text()

        posts: list[str] = []
        page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
        await page.get_by_role("button", name="Enregistrer").click()
        await page.wait_for_load_state()
        assert page.url.endswith(f"{edit}?refus=1"), page.url
        assert (
            french_spacing("Médecin traitant : Dr Irigoyen")
            in await page.get_by_role("alert").inner_text()
        )
        assert await page.get_by_label("Médecin traitant").input_value() == "Dr Irigoyen"
        assert await page.get_by_label("École").input_value() == "École du bourg"
        await page.reload()
        await page.wait_for_load_state()
        assert len(posts) == 1, posts
    person = await api.read_person(family_id, child["id"])
    assert (person["doctor_name"], person["school"]) == (None, "École du bourg")
