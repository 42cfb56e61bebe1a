"""The back office's API clients page, through the real gateway and the real auth service."""

from __future__ import annotations

import re

import aiohttp
import pyotp

from tests.browser import CHROMIUM, SCREENSHOTS, chromium
from tests.gateway.conftest import same_origin
from tests.totp import previous_code

from .conftest import GOOD_PASSWORD, staff_headers, unique_email, wait_for_event
from .test_pages import body, csrf_of, local, portal


async def signed_in_staff(client, auth, signer, role: str):  # type: ignore[no-untyped-def]
    """A staff member of `role`, invited, enrolled in TOTP and signed in on `client`."""
    invited = await auth.post(
        "/staff",
        json={"email": unique_email(role), "roles": [role]},
        headers=staff_headers(signer, "administrator"),
    )
    account = (await invited.json())["account"]
    event = await wait_for_event(auth, "account.invited", account_id=account["id"])
    page = await client.get(local(event["data"]["link"]))
    token = re.search(r'name="token" value="([^"]+)"', await body(page)).group(1)
    enrol = await client.post(
        "/premiere-connexion",
        data={"token": token, "password": GOOD_PASSWORD, "password_confirm": GOOD_PASSWORD},
        headers=same_origin(client),
    )
    html = await body(enrol)
    secret = re.search(r'name="secret" value="([^"]+)"', html).group(1)
    enrolment_token = re.search(r'name="enrolment_token" value="([^"]+)"', html).group(1)
    totp = pyotp.TOTP(secret)
    await client.post(
        "/double-authentification",
        data={
            "enrolment_token": enrolment_token,
            "secret": secret,
            "code": previous_code(totp.secret),
        },
        headers=same_origin(client),
    )
    signed_in = await client.post(
        "/connexion",
        data={"email": account["email"], "password": GOOD_PASSWORD, "totp_code": totp.now()},
        headers=same_origin(client),
        allow_redirects=False,
    )
    assert signed_in.status == 303
    return client


async def token_answer(auth, client_id: str, secret: str):  # type: ignore[no-untyped-def]
    return await auth.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": aiohttp.encode_basic_auth(client_id, secret)},
    )


async def the_page_fits_a_phone(client) -> None:  # type: ignore[no-untyped-def]
    """In Chromium at 360 px with `client`'s session: the client list scrolls inside its box
    (a 36-character id made the page 487 px wide) and each right's box sits beside its word."""
    if not CHROMIUM.exists():
        return
    base = str(client.make_url("")).rstrip("/")
    cookies = [{"name": c.key, "value": c.value, "url": base} for c in client.session.cookie_jar]
    async with chromium() as browser:
        context = await browser.new_context(viewport={"width": 360, "height": 740})
        await context.add_cookies(cookies)  # type: ignore[arg-type]
        page = await context.new_page()
        await page.goto(f"{base}/agents/clients-api")
        await page.screenshot(path=str(SCREENSHOTS / "api-clients-360.png"), full_page=True)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, width
        box = await page.locator("input[value='bookings:read']").bounding_box()
        word = await page.locator("label", has=page.locator("input[value='bookings:read']"))\
            .bounding_box()  # fmt: skip
        assert box is not None and word is not None
        assert box["height"] < 30 and word["height"] < 50, (box, word)


async def test_an_administrator_creates_shows_once_and_revokes_an_api_client(
    gateway, auth_client, signer
) -> None:
    client, auth = await portal(gateway, auth_client)
    await signed_in_staff(client, auth, signer, "administrator")
    page = await client.get("/agents/clients-api")
    html = await body(page)
    assert page.status == 200 and "Clients API des systèmes municipaux" in html
    csrf = csrf_of(html)

    nameless = await client.post(
        "/agents/clients-api",
        data={"csrf_token": csrf, "name": "  ", "scopes": ["families:read"]},
        headers=same_origin(client),
    )
    assert nameless.status == 422 and "Donnez un nom au système" in await body(nameless)
    rightless = await client.post(
        "/agents/clients-api",
        data={"csrf_token": csrf, "name": "Logiciel sans droits", "scopes": ["root:all"]},
        headers=same_origin(client),
    )
    assert rightless.status == 422 and "Cochez au moins un droit" in await body(rightless)
    assert "Logiciel sans droits" not in await body(await client.get("/agents/clients-api"))

    created = await client.post(
        "/agents/clients-api",
        data={"csrf_token": csrf, "name": "Logiciel de restauration", "scopes": ["bookings:read"]},
        headers=same_origin(client),
    )
    html = await body(created)
    assert created.status == 201 and "il ne sera plus jamais affiché" in html
    client_id = re.search(r"data-client-id>([^<]+)<", html).group(1)
    secret = re.search(r"data-client-secret>([^<]+)<", html).group(1)
    granted = await token_answer(auth, client_id, secret)
    assert granted.status == 200 and (await granted.json())["scope"] == "bookings:read"
    listed = await body(await client.get("/agents/clients-api"))
    assert client_id in listed and secret not in listed, "the secret is shown once"
    # Created « 28/11/2026 21:59 » in Paris time, not the service's ISO UTC instant.
    assert re.search(r"<td[^>]*>\d\d/\d\d/\d{4} \d\d:\d\d</td>", listed), listed
    await the_page_fits_a_phone(client)

    revoked = await client.post(
        f"/agents/clients-api/{client_id}/revoquer",
        data={"csrf_token": csrf},
        headers=same_origin(client),
    )
    assert revoked.status == 200 and "Le client est révoqué" in await body(revoked)
    assert (await token_answer(auth, client_id, secret)).status == 401


async def test_an_agent_without_the_administrator_role_is_refused(
    gateway, auth_client, signer
) -> None:
    client, auth = await portal(gateway, auth_client)
    await signed_in_staff(client, auth, signer, "agent")
    page = await client.get("/agents/clients-api")
    assert page.status == 403 and "Accès refusé" in await body(page)
    csrf = csrf_of(await body(await client.get("/agents/comptes")))
    created = await client.post(
        "/agents/clients-api",
        data={"csrf_token": csrf, "name": "Intrus", "scopes": ["families:write"]},
        headers=same_origin(client),
    )
    assert created.status == 403


async def test_revoking_asks_first_and_the_rights_read_in_english(
    gateway, auth_client, signer
) -> None:
    """Revoking stops a town's system for good: the form sits behind a question. English puts
    no space before the colon of « Families: »."""
    client, auth = await portal(gateway, auth_client)
    await signed_in_staff(client, auth, signer, "administrator")
    csrf = csrf_of(await body(await client.get("/agents/clients-api")))
    await client.post(
        "/agents/clients-api",
        data={"csrf_token": csrf, "name": "Logiciel comptable", "scopes": ["billing:read"]},
        headers=same_origin(client),
    )
    html = await body(await client.get("/agents/clients-api"))

    disclosures = re.findall(r'<details class="confirm">(.*?)</details>', html, re.S)
    assert any("/revoquer" in d and "Confirmer la révocation" in d for d in disclosures), html
    assert "Révoquer « Logiciel comptable » ?" in html.replace("\u202f", " ")
    english = await body(await client.get("/agents/clients-api?lang=en"))
    assert "Families:" in english and "Families :" not in english
    assert "Revoke “Logiciel comptable”?" in english and "Confirm the revocation" in english
