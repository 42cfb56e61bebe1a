"""In a real (headless) Chromium on a phone: a parent edits a phone number, an agent accepts it."""

from __future__ import annotations

import pytest

from tests.browser import CHROMIUM, CHROMIUM_ARGS, PHONE, SCREENSHOTS
from tests.gateway.fakes import PASSWORD

from .conftest import Portal
from .pages import PARENT_EMAIL, STAFF_EMAIL

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium on this machine"),
]


async def _sign_in(page, base: str, email: str) -> None:
    await page.goto(f"{base}/connexion")
    await page.get_by_label("Adresse électronique").fill(email)
    await page.get_by_label("Mot de passe").fill(PASSWORD)
    await page.get_by_role("button", name="Se connecter").click()
    await page.wait_for_load_state()


@pytest.mark.timeout(180)
async def test_a_parent_changes_a_phone_number_and_an_agent_accepts_it(portal: Portal) -> None:
    from playwright.async_api import async_playwright

    base = portal.base_url
    violations: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            parent_context = await browser.new_context(
                viewport=PHONE, device_scale_factor=2, is_mobile=True
            )
            parent = await parent_context.new_page()
            parent.on(
                "console",
                lambda m: (
                    violations.append(m.text) if "Content Security Policy" in m.text else None
                ),
            )
            await _sign_in(parent, base, PARENT_EMAIL)
            await parent.goto(f"{base}/famille")
            assert await parent.title() == "Ma famille — Mairie de Hasparren"
            await parent.get_by_role("link", name="Modifier les coordonnées").click()
            assert await parent.get_by_label("Adresse *").is_visible()  # the star of the manual
            await parent.get_by_label("Téléphone du domicile").fill("06 11 22 33 44")
            await parent.screenshot(
                path=str(SCREENSHOTS / "families-edit-phone.png"), full_page=True
            )
            await parent.get_by_role("button", name="Valider mes modifications").click()
            await parent.wait_for_load_state()
            status = parent.get_by_role("status")
            assert "Votre demande a été correctement enregistrée." in await status.inner_text()
            assert "En attente de validation" in await parent.locator(".requests").inner_text()
            width = await parent.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"]  # nothing overflows sideways on a phone
            await parent.screenshot(path=str(SCREENSHOTS / "families-saved.png"), full_page=True)

            staff_context = await browser.new_context(viewport=PHONE, is_mobile=True)
            agent = await staff_context.new_page()
            await _sign_in(agent, base, STAFF_EMAIL)
            await agent.goto(f"{base}/agents/familles/{portal.family['id']}")
            await agent.get_by_role("link", name="Traiter").click()
            item = agent.locator(".queue__item").first
            assert "06 11 22 33 44" in await item.inner_text()
            await agent.screenshot(path=str(SCREENSHOTS / "families-queue.png"), full_page=True)
            await item.get_by_role("button", name="Accepter", exact=True).click()
            await agent.wait_for_load_state()
            assert "La demande a été acceptée." in await agent.get_by_role("status").inner_text()

            for path in (
                "/agents/champs",
                f"/agents/familles/{portal.family['id']}",
                "/agents/familles?q=Etcheverry",
                "/agents/demandes?etat=accepted",
            ):
                await agent.goto(f"{base}{path}")
                width = await agent.evaluate("document.documentElement.scrollWidth")
                assert width <= PHONE["width"], path  # staff pages fit a phone too
            await agent.goto(f"{base}/agents/champs")
            await agent.screenshot(path=str(SCREENSHOTS / "families-policy.png"), full_page=True)

            await parent.goto(f"{base}/famille")
            details = await parent.locator("#coordonnees").locator("..").inner_text()
            assert "06 11 22 33 44" in details
            assert "Acceptée" in await parent.locator(".requests").inner_text()
        finally:
            await browser.close()
    assert violations == []
    events = await portal.api.events("family.change_accepted", family_id=portal.family["id"])
    assert len(events) == 1
