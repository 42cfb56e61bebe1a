"""A session auth revokes stops working through the gateway at its very next request, not
when the gateway's JWT cache (up to a minute) runs out: an account disabled by staff, and a
password changed elsewhere (which ends the other sessions). Real auth, gateway and Redis."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.gateway.conftest import same_origin

from .conftest import GOOD_PASSWORD, active_family, staff_headers
from .test_pages import portal

NEW_PASSWORD = "une toute nouvelle phrase de passe"


async def signed_in_browser(gateway: Any, auth_client: Any, signer: Any) -> tuple[Any, Any, Any]:
    """A parent signed in through the gateway, whose session's JWT is now in its cache."""
    client, auth = await portal(gateway, auth_client)
    parent = await active_family(auth, signer)
    signed = await client.post(
        "/connexion",
        data={"email": parent["email"], "password": GOOD_PASSWORD},
        headers=same_origin(client),
        allow_redirects=False,
    )
    assert signed.status == 303
    assert await is_signed_in(client)
    return client, auth, parent


async def is_signed_in(client: Any) -> bool:
    page = await client.get("/mot-de-passe", allow_redirects=False)
    assert page.status in (200, 303), page.status
    return page.status == 200


async def test_a_disabled_account_is_signed_out_at_its_next_request(
    gateway, auth_client, signer
) -> None:
    client, auth, parent = await signed_in_browser(gateway, auth_client, signer)

    disabled = await auth.post(
        f"/accounts/{parent['account']['id']}/disable", headers=staff_headers(signer)
    )
    assert disabled.status == 200, await disabled.text()

    assert not await is_signed_in(client)


async def test_a_password_changed_elsewhere_ends_this_browser_s_session_at_once(
    gateway, auth_client, signer
) -> None:
    client, auth, parent = await signed_in_browser(gateway, auth_client, signer)

    changed = await auth.post(
        "/accounts/me/password",
        json={"current": GOOD_PASSWORD, "new": NEW_PASSWORD},
        headers={
            "Authorization": f"Bearer {parent['token']}",
            "X-Session-Token": parent["session_token"],  # the session kept: the other one's
        },
    )
    assert changed.status == 204, await changed.text()

    assert not await is_signed_in(client)


async def test_a_disabled_session_reaches_no_api_and_a_new_sign_in_works(
    gateway, auth_client, signer
) -> None:
    """The API under /api/ with the browser's cookie is refused like the pages; once the
    account is enabled again, a new sign-in works at once (its session is not marked) and
    the old cookie stays refused."""
    client, auth, parent = await signed_in_browser(gateway, auth_client, signer)
    me = await client.get("/api/auth/accounts/me")
    assert me.status == 200, await me.text()
    old_cookie = next(c for c in client.session.cookie_jar if c.key == "portail_session").value
    account = f"/accounts/{parent['account']['id']}"

    assert (await auth.post(account + "/disable", headers=staff_headers(signer))).status == 200
    assert (await client.get("/api/auth/accounts/me")).status == 401

    assert (await auth.post(account + "/enable", headers=staff_headers(signer))).status == 200
    again = await client.post(
        "/connexion",
        data={"email": parent["email"], "password": GOOD_PASSWORD},
        headers=same_origin(client),
        allow_redirects=False,
    )
    assert again.status == 303
    assert await is_signed_in(client)
    assert (await client.get("/api/auth/accounts/me")).status == 200
    # The old cookie, sent alone (a copy kept by whoever stole it): still refused.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as thief:
        stale = await thief.get(
            client.make_url("/api/auth/accounts/me"),
            headers={"Cookie": f"portail_session={old_cookie}"},
        )
        assert stale.status == 401
