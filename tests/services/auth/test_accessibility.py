"""The account pages reached from an e-mail or with a second factor pass axe-core's WCAG 2.1
A/AA audit in a real Chromium, each in the states a person meets: the first sign-in from a
valid link (and refused), the second factor's enrolment on « Sécurité » (and a wrong code),
the backup codes, the sign-in page with its error and asking for the code, the reset page from
a valid link — a parent on a phone; an agent's first sign-in and TOTP enrolment
(« /double-authentification ») on a desktop. The real auth service behind the real gateway."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from tests.browser import PHONE, AccessibilityAudit, chromium, requires_chromium
from tests.totp import previous_code

from .conftest import GOOD_PASSWORD, invite, staff_headers, unique_email, wait_for_event
from .test_pages import local, portal

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page

pytestmark = [pytest.mark.browser, requires_chromium]

DESKTOP = {"width": 1280, "height": 900}
CREATE = "Créer mon mot de passe et me connecter"


async def _first_sign_in(page: Page, url: str, audit: AccessibilityAudit, who: str) -> None:
    """From the e-mail's link: the form, the form refused (passwords that differ), then sent."""
    await page.goto(url)
    await audit.check(page, f"/premiere-connexion ({who}, valid link)")
    await page.get_by_label("Mot de passe", exact=True).fill(GOOD_PASSWORD)
    await page.get_by_label("Confirmez le mot de passe").fill(GOOD_PASSWORD + " autre")
    async with page.expect_navigation():  # the page's own check bypassed: the server's shown
        await page.locator("form[action='/premiere-connexion']").evaluate("f => f.submit()")
    await audit.check(page, f"/premiere-connexion ({who}, refused)")
    await page.get_by_label("Mot de passe", exact=True).fill(GOOD_PASSWORD)
    await page.get_by_label("Confirmez le mot de passe").fill(GOOD_PASSWORD)
    async with page.expect_navigation():
        await page.get_by_role("button", name=CREATE).click()


async def _font_size(element: Locator) -> float:
    return float(await element.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))


async def _enrol(page: Page, audit: AccessibilityAudit, where: str) -> str:
    """On an enrolment page: a wrong code, then the right one; the backup codes. The secret."""
    await audit.check(page, f"{where} (enrolment)")
    # The key typed by hand is read at body size or more on a phone (it was 13px).
    assert await _font_size(page.locator(".totp-secret")) >= 16
    secret = await page.locator("input[name=secret]").input_value()
    await page.get_by_label("Code affiché par l'application").fill("000000")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Activer", exact=True).click()
    assert await page.get_by_role("alert").count() >= 1
    await audit.check(page, f"{where} (wrong code)")
    code = previous_code(secret)
    await page.get_by_label("Code affiché par l'application").fill(code)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Activer", exact=True).click()
    assert "codes de secours" in await page.locator("main").inner_text()
    assert await _font_size(page.locator(".recovery-codes code").first) >= 16
    await audit.check(page, f"{where} (backup codes)")
    return secret


@pytest.mark.timeout(300)
async def test_the_account_pages_pass_the_accessibility_audit(gateway, auth_client, signer) -> None:
    client, auth = await portal(gateway, auth_client)
    base = str(client.make_url("")).rstrip("/")
    account, link = await invite(auth, signer, family_id="fam-a11y")
    audit = AccessibilityAudit("auth")
    async with chromium() as browser:
        phone = await browser.new_context(viewport=PHONE, is_mobile=True)
        page = await phone.new_page()
        await _first_sign_in(page, base + local(link), audit, "parent")
        await page.goto(f"{base}/securite")
        await audit.check(page, "/securite (second factor off)")
        async with page.expect_navigation():
            await page.get_by_role("button", name="Activer la double authentification").click()
        secret = await _enrol(page, audit, "/securite/activer")
        await page.goto(f"{base}/securite")
        await audit.check(page, "/securite (second factor on)")

        async with page.expect_navigation():
            await page.get_by_role("button", name="Se déconnecter").click()
        for lang in ("fr", "en"):
            await page.goto(f"{base}/connexion?lang={lang}")
            await page.locator("#email").fill(account["email"])
            await page.locator("#password").fill("pas le bon mot de passe")
            async with page.expect_navigation():
                await page.locator("form[action='/connexion'] button[type=submit]").click()
            assert await page.get_by_role("alert").count() >= 1
            await audit.check(page, f"/connexion (wrong password, {lang})")
        await page.goto(f"{base}/connexion?lang=fr")
        await page.locator("#email").fill(account["email"])
        await page.locator("#password").fill(GOOD_PASSWORD)
        async with page.expect_navigation():
            await page.locator("form[action='/connexion'] button[type=submit]").click()
        assert await page.locator("#totp_code[required]").count() == 1
        await audit.check(page, "/connexion (asks for the code)")
        assert secret

        await page.goto(f"{base}/mot-de-passe-oublie")
        await page.get_by_label("Adresse électronique").fill(account["email"])
        async with page.expect_navigation():
            await page.locator("form[action='/mot-de-passe-oublie'] button").click()
        event = await wait_for_event(
            auth, "account.password_reset_requested", account_id=account["id"]
        )
        await page.goto(base + local(event["data"]["link"]))
        assert re.search(r"/reinitialisation\?", page.url)
        await audit.check(page, "/reinitialisation (valid link)")
        await phone.close()

        invited = await auth.post(
            "/staff",
            json={"email": unique_email("agent"), "roles": ["agent"]},
            headers=staff_headers(signer, "administrator"),
        )
        assert invited.status in (200, 201), await invited.text()
        staff_id = (await invited.json())["account"]["id"]
        event = await wait_for_event(auth, "account.invited", account_id=staff_id)
        desktop = await browser.new_context(viewport=DESKTOP)
        page = await desktop.new_page()
        await _first_sign_in(page, base + local(event["data"]["link"]), audit, "agent")
        await _enrol(page, audit, "/double-authentification")
        await desktop.close()
    assert not audit.found, audit.report()
