"""The authenticator enrolment page draws the otpauth:// link as a QR code (inline SVG)."""

from __future__ import annotations

import html as html_module
import re

import pytest

from gateway.qr import qr_svg
from tests.browser import PHONE, chromium, requires_chromium
from tests.gateway.conftest import same_origin
from tests.totp import previous_code

from .conftest import GOOD_PASSWORD, active_family, staff_headers, unique_email, wait_for_event
from .test_pages import body, csrf_of, local, portal

LABEL = "QR code à scanner avec l'application d'authentification"


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name}"
    return match.group(1)


def svg_of(html: str) -> str:
    """The page's QR code (other SVGs are decorative icons), entities decoded like the page."""
    match = re.search(r'<svg role="img" .*?</svg>', html, re.S)
    assert match, "no QR code on the page"
    return match.group(0)


def drawn(uri: str, label: str = LABEL) -> str:
    return html_module.unescape(str(qr_svg(uri, label)))


def test_the_qr_code_is_named_and_uses_no_style_the_csp_would_block() -> None:
    svg = str(qr_svg("otpauth://totp/Portail:a%40b.org?secret=JBSWY3DPEHPK3PXP", "a < b"))
    assert svg.startswith('<svg role="img" ') and "<title>a &lt; b</title>" in svg
    assert "style" not in svg and "<script" not in svg


async def test_a_parent_enrolling_sees_the_qr_code_of_the_otpauth_link_and_the_grouped_secret(
    gateway, auth_client, signer
) -> None:
    client, auth = await portal(gateway, auth_client)
    parent = await active_family(auth, signer)
    origin = same_origin(client)
    await client.post(
        "/connexion", data={"email": parent["email"], "password": GOOD_PASSWORD}, headers=origin
    )
    csrf = csrf_of(await body(await client.get("/securite")))
    begun = await client.post("/securite/activer", data={"csrf_token": csrf}, headers=origin)
    html = await body(begun)
    secret, uri = hidden(html, "secret"), hidden(html, "otpauth_uri")
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri
    # The drawing on the page is the QR code of that very link, named for screen readers.
    assert svg_of(html) == drawn(uri)
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    assert f'<code class="totp-secret">{grouped}</code>' in html

    # A wrong code shows the same QR code again, from the form's hidden fields.
    data = {"csrf_token": csrf, "code": "000000", "secret": secret, "otpauth_uri": uri}
    wrong = await client.post("/securite/confirmer", data=data, headers=origin)
    again = await body(wrong)
    assert wrong.status == 422 and svg_of(again) == drawn(uri)

    # A forged link in the form is neither drawn nor linked; the typed key still works.
    forged = {**data, "otpauth_uri": "javascript:alert(1)"}
    refused = await body(await client.post("/securite/confirmer", data=forged, headers=origin))
    assert '<svg role="img"' not in refused and "javascript:" not in refused
    assert grouped in refused

    english = await body(
        await client.post("/securite/activer?lang=en", data={"csrf_token": csrf}, headers=origin)
    )
    assert "<title>QR code to scan with the authenticator app</title>" in english
    assert "Scan this QR code with the app." in english


@pytest.mark.browser
@requires_chromium
async def test_staff_first_sign_in_shows_the_qr_code_on_a_phone_without_csp_violation(
    gateway, auth_client, signer
) -> None:
    client, auth = await portal(gateway, auth_client)
    email = unique_email("agent")
    invited = await auth.post(
        "/staff",
        json={"email": email, "roles": ["agent"]},
        headers=staff_headers(signer, "administrator"),
    )
    account_id = (await invited.json())["account"]["id"]
    event = await wait_for_event(auth, "account.invited", account_id=account_id)
    base = str(client.make_url("")).rstrip("/")
    console_problems: list[str] = []

    async with chromium() as browser:
        page = await browser.new_page(viewport={**PHONE, "width": 360}, is_mobile=True)
        page.on("console", lambda m: console_problems.append(m.text))
        await page.goto(base + local(event["data"]["link"]))
        await page.get_by_label("Mot de passe", exact=True).fill(GOOD_PASSWORD)
        await page.get_by_label("Confirmez le mot de passe").fill(GOOD_PASSWORD)
        await page.get_by_role("button", name="Créer mon mot de passe et me connecter").click()
        qr = page.get_by_role("img", name=LABEL)
        await qr.wait_for()
        box = await qr.bounding_box()
        assert box is not None and 100 < box["width"] <= 360 - 32  # fits inside the card
        # Dark modules on white: the SVG really painted (a blocked style would leave none).
        assert await qr.evaluate(
            "e => getComputedStyle(e.querySelector('path[stroke]')).stroke"
        ) in ("rgb(0, 0, 0)", "#000")
        await page.screenshot(path="/tmp/auth-totp-qr.png", full_page=True)
        secret = await page.locator('input[name="secret"]').input_value()
        await page.get_by_label("Code affiché par l'application").fill(previous_code(secret))
        await page.get_by_role("button", name="Activer").click()
        await page.get_by_text("codes de secours").first.wait_for()
    assert [p for p in console_problems if "Content Security Policy" in p] == []
