"""The manual's « Enregistrement » confirmation and its « Ok », in a real (headless) Chromium,
through the real gateway and the real families service (conftest.py's `portal`).

Without JavaScript « Ok » is a link to the same page without `ok=`; with it, the
confirmation closes in place and the focus goes to the page's heading.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import PHONE, chromium, requires_chromium

from .conftest import Portal
from .pages import PARENT_EMAIL

pytestmark = [
    pytest.mark.browser,
    requires_chromium,
]

DESKTOP = {"width": 1280, "height": 900}


async def parent_page(browser: Any, portal: Portal, **options: Any) -> Any:
    """A browser page with the parent's session, opened through the gateway's sign-in."""
    visitor = await portal.visitor(PARENT_EMAIL)
    context = await browser.new_context(**options)
    await context.add_cookies(
        [
            {"name": cookie.key, "value": cookie.value, "url": portal.base_url}
            for cookie in visitor.session.cookie_jar
        ]
    )
    return await context.new_page()


async def child_id(portal: Portal) -> str:
    """The household's child, whose page shows the same confirmation."""
    persons = await (
        await portal.api.client.get(
            f"/families/{portal.family['id']}/persons", headers=portal.api.staff()
        )
    ).json()
    return next(p["id"] for p in persons if p["role"] == "child")


async def test_ok_closes_the_saved_confirmation_in_place_on_a_phone(portal: Portal) -> None:
    family = portal.family["id"]
    async with chromium() as browser:
        page = await parent_page(browser, portal, viewport=PHONE, is_mobile=True)
        await page.goto(f"{portal.base_url}/famille/modifier?famille={family}")
        await page.get_by_label("Téléphone du domicile").fill("06.11.22.33.44")
        await page.get_by_role("button", name="Valider mes modifications").click()
        await page.wait_for_load_state()
        confirmation = page.get_by_role("status")
        assert "Enregistrement" in await confirmation.inner_text()
        ok = confirmation.get_by_role("link", name="Ok, fermer ce message", exact=True)
        assert await ok.get_attribute("href") == f"/famille?famille={family}"
        await page.screenshot(path="/tmp/helperA-saved-phone-fr.png", full_page=True)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= await page.evaluate("window.innerWidth"), width

        await page.evaluate("window.notReloaded = true")
        await ok.focus()
        await page.keyboard.press("Enter")
        assert await confirmation.count() == 0  # hidden
        assert await page.evaluate("window.notReloaded === true")  # closed in place
        focused = await page.evaluate("document.activeElement.textContent.trim()")
        assert focused == "Ma famille"
        # The address without ok=: a reload does not show the confirmation again.
        assert page.url == f"{portal.base_url}/famille?famille={family}"
        await page.screenshot(path="/tmp/helperA-dismissed-phone-fr.png", full_page=True)

        await page.goto(f"{portal.base_url}/famille?famille={family}&ok=enregistre&lang=en")
        english = page.get_by_role("status")
        assert "Saved" in await english.inner_text()
        ok = english.get_by_role("link", name="OK, close this message", exact=True)
        assert await ok.is_visible()
        await page.screenshot(path="/tmp/helperA-saved-phone-en.png", full_page=True)


async def test_ok_without_javascript_opens_the_page_without_the_confirmation(
    portal: Portal,
) -> None:
    family, child = portal.family["id"], await child_id(portal)
    person_page = f"{portal.base_url}/famille/personnes/{child}"
    async with chromium() as browser:
        page = await parent_page(browser, portal, viewport=DESKTOP, java_script_enabled=False)
        for lang, ok_name, title in (
            ("fr", "Ok, fermer ce message", "Enregistrement"),
            ("en", "OK, close this message", "Saved"),
        ):
            await page.goto(f"{person_page}?famille={family}&ok=enregistre&lang={lang}")
            confirmation = page.get_by_role("status")
            assert title in await confirmation.inner_text()
            await page.screenshot(path=f"/tmp/helperA-saved-desktop-{lang}.png", full_page=True)
            await confirmation.get_by_role("link", name=ok_name, exact=True).click()
            await page.wait_for_load_state()
            assert page.url == f"{person_page}?famille={family}&lang={lang}"
            assert await page.get_by_role("status").count() == 0
