"""Signing in with a second factor, in Chromium: the page that asks for the code comes back with
the password field empty, so it must say to type the password again — an agent who typed only
the code was told « Saisissez votre adresse électronique et votre mot de passe. »."""

from __future__ import annotations

import pytest

from tests.browser import chromium, requires_chromium

from .conftest import active_family
from .test_mfa import code_at, enrol_family
from .test_pages import portal

pytestmark = [
    pytest.mark.browser,
    requires_chromium,
]

DESKTOP = {"width": 1280, "height": 800}


async def test_the_code_step_says_to_type_the_password_again(gateway, auth_client, signer) -> None:
    client, auth = await portal(gateway, auth_client)
    account = await active_family(auth, signer)
    secret, _ = await enrol_family(auth, account)
    base = str(client.make_url("")).rstrip("/")

    async with chromium() as browser:
        page = await browser.new_page(viewport=DESKTOP, locale="fr-FR")
        await page.goto(f"{base}/connexion")
        await page.get_by_label("Adresse électronique").fill(account["email"])
        await page.get_by_label("Mot de passe", exact=True).fill(account["password"])
        await page.get_by_role("button", name="Se connecter").click()

        alert = page.get_by_role("alert")
        await alert.wait_for()
        assert await alert.inner_text() == (
            "Saisissez de nouveau votre mot de passe, puis le code à 6 chiffres "
            "de votre application d'authentification."
        )
        assert await page.get_by_label("Mot de passe", exact=True).input_value() == ""
        await page.screenshot(path="/tmp/auth-signin-code-step.png", full_page=True)

        await page.get_by_label("Mot de passe", exact=True).fill(account["password"])
        await page.get_by_label("Code de vérification").fill(code_at(secret, 0))
        await page.get_by_role("button", name="Se connecter").click()
        await page.wait_for_url(f"{base}/")
