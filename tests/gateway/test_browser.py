"""The shell in a real (headless) Chromium on a phone-sized screen."""

from __future__ import annotations

import pytest

from tests.browser import PHONE, SCREENSHOTS, chromium, requires_chromium

from .fakes import PASSWORD, FakeAuth, dashboard_app

pytestmark = [
    pytest.mark.browser,
    requires_chromium,
]


async def test_a_parent_signs_in_on_a_phone_and_sees_the_dashboard(
    gateway, upstream, signer
) -> None:
    fake = FakeAuth(signer, accounts={"test@example.org": ["fam-1"]})
    auth = await upstream(fake.app())
    families = await upstream(dashboard_app({"famille": {"count": 1}}))
    documents = await upstream(
        dashboard_app({"documents": {"count": 4}, "documentation": {"count": 8}})
    )
    notifications = await upstream(
        dashboard_app(
            {
                "historique": {"count": 2},
                "contact": {"count": 0},
                "news": [
                    {
                        "title": "Inscriptions",
                        "text": "Les inscriptions aux vacances de printemps à l'ALSH Josta Leku "
                        "sont ouvertes du lundi 27 mars au jeudi 6 avril.",
                    }
                ],
            }
        )
    )
    client = await gateway(
        {
            "auth": auth.url,
            "families": families.url,
            "documents": documents.url,
            "notifications": notifications.url,
        }
    )
    base = str(client.make_url("")).rstrip("/")
    violations: list[str] = []

    async with chromium() as browser:
        page = await browser.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True)
        page.on(
            "console",
            lambda message: (
                violations.append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )
        await page.goto(f"{base}/connexion")
        await page.screenshot(path=str(SCREENSHOTS / "gateway-signin-phone.png"), full_page=True)
        await page.get_by_label("Adresse électronique").fill("test@example.org")
        await page.get_by_label("Mot de passe").fill(PASSWORD)
        await page.get_by_role("button", name="Se connecter").click()
        await page.wait_for_url(f"{base}/")
        assert await page.title() == "Mon tableau de bord — Mairie de Hasparren"
        tile = page.locator('[data-tile="documents"]')
        assert "4 Attendus" in await tile.inner_text()
        # The structure's documentation says what it counts (it showed a bare « 8 »).
        documentation = page.locator('[data-tile="documentation"]')
        assert "8 Documents" in await documentation.inner_text()
        unavailable = page.locator('[data-tile="factures"]')
        assert "Service momentanément indisponible" in await unavailable.inner_text()
        await page.screenshot(path=str(SCREENSHOTS / "gateway-dashboard-phone.png"), full_page=True)

        await page.get_by_text("Menu", exact=True).click()
        menu = page.get_by_role("navigation", name="Menu principal")
        assert await menu.is_visible()
        assert await menu.get_by_role("link").count() == 10
        await page.screenshot(path=str(SCREENSHOTS / "gateway-menu-phone.png"))

        await page.goto(f"{base}/")
        await page.keyboard.press("Tab")  # the first stop is the skip link, now visible
        focused = await page.evaluate("document.activeElement.textContent.trim()")
        assert focused == "Aller au contenu"
        assert await page.get_by_role("link", name="Aller au contenu").is_visible()
        await page.screenshot(path=str(SCREENSHOTS / "gateway-skip-link-phone.png"))
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]  # nothing overflows sideways on a phone

        await page.set_viewport_size({"width": 1280, "height": 900})
        await page.goto(f"{base}/")
        await page.screenshot(path=str(SCREENSHOTS / "gateway-dashboard-desktop.png"))
    assert violations == []
