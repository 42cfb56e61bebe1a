"""The staff family edit page after a refused save, in a real (headless) Chromium, on a phone
and a desktop, through the real gateway and the real families service (conftest's `portal`).

Another agent saves the family while this one is typing: « Enregistrer » is refused whole,
the page says why in French at the top, keeps what was typed, and nothing is saved.
Screenshots: /tmp/families-staff-edit-conflict-{phone,desktop}.png; and, when the service
is too slow to answer, /tmp/families-staff-edit-timeout-phone.png.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from services.kit.keys import DATABASE
from tests.browser import PHONE, SCREENSHOTS, accessibility_violations, chromium, requires_chromium

from .conftest import FamiliesApi, Portal
from .pages import STAFF_EMAIL
from .wire import wired_portal

pytestmark = [pytest.mark.browser, requires_chromium]

DESKTOP = {"width": 1280, "height": 900}
STALE = "Ce dossier a été modifié entre-temps : rechargez-le avant de le modifier."


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
async def test_a_save_refused_by_another_agents_save_says_so_and_keeps_the_form(
    portal: Portal, name: str, options: dict[str, Any], phone: str
) -> None:
    family_id = portal.family["id"]
    async with chromium() as browser:
        page = await staff_page(browser, portal, locale="fr-FR", **options)
        await page.goto(f"{portal.base_url}/agents/familles/{family_id}/modifier")
        await page.get_by_label("Commune").fill("Anglet")
        await page.get_by_label("Quotient familial").fill("640")
        await page.get_by_label("Date du quotient").fill("2026-01-05")
        await page.get_by_label("Source du quotient").select_option("CAF")
        await another_agent_saves(portal, phone)

        await page.get_by_role("button", name="Enregistrer").click()
        await page.wait_for_load_state()

        alert = page.get_by_role("alert")
        assert STALE in await alert.inner_text()
        assert await page.get_by_label("Commune").input_value() == "Anglet"
        assert await page.get_by_label("Quotient familial").input_value() == "640"
        reload = alert.get_by_role("link", name="Recharger le dossier")
        assert await reload.get_attribute("href") == f"/agents/familles/{family_id}/modifier"
        await page.screenshot(
            path=str(SCREENSHOTS / f"families-staff-edit-conflict-{name}.png"), full_page=True
        )
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= await page.evaluate("window.innerWidth"), width
        assert await accessibility_violations(page) == []

        await reload.click()  # the record as it is now, the other agent's phone in it
        await page.wait_for_load_state()
        assert await page.get_by_label("Téléphone du domicile").input_value() == phone
        assert await page.get_by_role("alert").count() == 0
    record = await portal.api.read_family(family_id)
    assert (record["city"], record["quotient"], record["phone"]) == ("Hasparren", None, phone)


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
