"""In a real (headless) Chromium: first sign-in from the e-mail link, password change, sign-out."""

from __future__ import annotations

import pytest

from tests.browser import PHONE, chromium, requires_chromium

from .conftest import GOOD_PASSWORD, invite
from .test_pages import local, portal

NEW_PASSWORD = "le nouveau mot de passe du parent"

pytestmark = [
    pytest.mark.browser,
    requires_chromium,
]


async def test_a_parent_from_the_invitation_email_to_a_password_change_and_out(
    gateway, auth_client, signer
) -> None:
    client, auth = await portal(gateway, auth_client)
    account, link = await invite(auth, signer, family_id="fam-browser")
    base = str(client.make_url("")).rstrip("/")
    console_problems: list[str] = []

    async with chromium() as browser:
        page = await browser.new_page(viewport=PHONE, is_mobile=True)
        page.on(
            "console",
            lambda m: console_problems.append(m.text) if m.type in ("error", "warning") else None,
        )
        await page.goto(base + local(link))
        assert await page.get_by_role("heading", name="Ma première connexion").is_visible()
        await page.get_by_label("Mot de passe", exact=True).fill("court")
        length_rule = page.locator('[data-rule="length"]')
        assert await length_rule.get_attribute("data-met") == "non"  # the script runs (CSP nonce)
        await page.get_by_label("Mot de passe", exact=True).fill(GOOD_PASSWORD)
        await page.get_by_label("Confirmez le mot de passe").fill(GOOD_PASSWORD)
        assert await length_rule.get_attribute("data-met") == "oui"
        assert await page.locator('[data-rule="match"]').get_attribute("data-met") == "oui"
        await page.screenshot(path="/tmp/auth-first-signin-form.png", full_page=True)
        await page.get_by_role("button", name="Créer mon mot de passe et me connecter").click()
        await page.wait_for_url(f"{base}/")
        assert await page.get_by_role("button", name="Se déconnecter").is_visible()
        await page.screenshot(path="/tmp/auth-first-signin-dashboard.png", full_page=True)

        await page.goto(f"{base}/mot-de-passe")
        await page.get_by_label("Mot de passe actuel").fill(GOOD_PASSWORD)
        await page.get_by_label("Nouveau mot de passe", exact=True).fill(NEW_PASSWORD)
        await page.get_by_label("Confirmez le nouveau mot de passe").fill(NEW_PASSWORD)
        await page.get_by_role("button", name="Modifier le mot de passe").click()
        await page.get_by_role("status").filter(has_text="a été modifié").wait_for()

        await page.get_by_role("button", name="Se déconnecter").click()
        await page.wait_for_url(f"{base}/connexion")
        await page.get_by_label("Adresse électronique").fill(account["email"])
        await page.get_by_label("Mot de passe", exact=True).fill(GOOD_PASSWORD)
        await page.get_by_role("button", name="Se connecter").click()
        await page.get_by_text("Adresse électronique ou mot de passe incorrect.").wait_for()
        await page.get_by_label("Mot de passe", exact=True).fill(NEW_PASSWORD)
        await page.get_by_role("button", name="Se connecter").click()
        await page.wait_for_url(f"{base}/")
    assert [p for p in console_problems if "Content Security Policy" in p] == []


async def test_each_line_of_the_password_rule_shows_one_mark_not_a_bullet_beside_it(
    gateway, auth_client, signer
) -> None:
    client, auth = await portal(gateway, auth_client)
    _, link = await invite(auth, signer, family_id="fam-rule")
    base = str(client.make_url("")).rstrip("/")
    async with chromium() as browser:
        page = await browser.new_page(viewport=PHONE, is_mobile=True)
        await page.goto(base + local(link))
        await page.screenshot(path="/tmp/auth-password-rule.png", full_page=True)
        rule = page.locator("#password-rule .rule")
        # The « • » of each line turns into ✓ or ✗: the list adds no « • » of its own.
        assert await rule.evaluate("e => getComputedStyle(e).listStyleType") == "none"
        lines = await rule.locator("li").all_inner_texts()
        assert lines and all(line.startswith("• ") for line in lines), lines


async def test_a_phone_shows_every_password_error_under_its_field(
    gateway, auth_client, signer
) -> None:
    client, auth = await portal(gateway, auth_client)
    _, link = await invite(auth, signer)
    base = str(client.make_url("")).rstrip("/")

    async with chromium() as browser:
        page = await browser.new_page(viewport=PHONE, is_mobile=True)
        await page.goto(base + local(link))
        await page.get_by_label("Mot de passe", exact=True).fill("court")
        await page.get_by_label("Confirmez le mot de passe").fill("différent")
        await page.get_by_role("button", name="Créer mon mot de passe et me connecter").click()
        summary = page.get_by_role("alert")
        await summary.wait_for()
        await page.screenshot(path="/tmp/auth-password-errors-phone.png", full_page=True)

        assert await summary.get_by_role("link").count() == 2
        assert await page.locator("#password-erreur").is_visible()
        assert await page.locator("#password_confirm-erreur").is_visible()
        confirm = page.get_by_label("Confirmez le mot de passe")
        assert await confirm.get_attribute("aria-invalid") == "true"
        await summary.get_by_role("link", name="identiques").click()
        assert await confirm.evaluate("field => document.activeElement === field")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]
