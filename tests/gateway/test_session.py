"""The session cookie ↔ JWT exchange, cookie flags, and CSRF on state-changing requests."""

from __future__ import annotations

import re

import jwt
import pytest
from yarl import URL

from gateway.keys import REDIS

from .conftest import echo_app, same_origin, settings_of
from .fakes import PASSWORD, FakeAuth

EMAIL = "parent@example.org"


@pytest.fixture
async def auth(upstream, signer) -> tuple[FakeAuth, str]:
    fake = FakeAuth(signer, accounts={EMAIL: ["fam-1"]})
    server = await upstream(fake.app())
    return fake, server.url


async def sign_in(client, *, origin: dict[str, str] | None = None, password: str = PASSWORD):
    return await client.post(
        "/connexion",
        data={"email": EMAIL, "password": password},
        headers=origin if origin is not None else same_origin(client),
        allow_redirects=False,
    )


def csrf_from(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
    assert match, "the page carries no CSRF token"
    return match.group(1)


async def test_signing_in_sets_an_httponly_lax_cookie_without_secure_over_http(
    gateway, auth
) -> None:
    fake, auth_url = auth
    client = await gateway({"auth": auth_url})
    response = await sign_in(client)
    assert response.status == 303
    assert response.headers["Location"] == "/"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("portail_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Path=/" in cookie
    assert "Secure" not in cookie  # plain http (dev, tests): a Secure cookie would be dropped
    assert fake.sign_ins[0]["forwarded_for"] == "127.0.0.1"


async def test_over_https_the_cookie_is_host_prefixed_and_secure(gateway, auth) -> None:
    _fake, auth_url = auth
    client = await gateway({"auth": auth_url}, public_base_url="https://portail.example.fr")
    response = await sign_in(client, origin={"Origin": "https://portail.example.fr"})
    assert response.status == 303
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-portail_session=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "Path=/" in cookie
    assert "Domain" not in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


async def test_a_wrong_password_stays_on_the_form_with_a_french_message(gateway, auth) -> None:
    _fake, auth_url = auth
    client = await gateway({"auth": auth_url})
    response = await sign_in(client, password="pas le bon")
    assert response.status == 401
    assert "Adresse électronique ou mot de passe incorrect." in await response.text()
    assert "Set-Cookie" not in response.headers


async def test_the_session_is_forwarded_as_the_auth_token_never_the_clients_own(
    gateway, auth, upstream, signer
) -> None:
    fake, auth_url = auth
    families = await upstream(echo_app())
    client = await gateway({"auth": auth_url, "families": families.url})
    await sign_in(client)
    forged = signer.token(subject="someone-else", role="staff")
    for _ in range(2):
        response = await client.get(
            "/api/families/x", headers={"Authorization": f"Bearer {forged}"}
        )
        sent = (await response.json())["headers"]
        claims = jwt.decode(sent["Authorization"].split()[1], options={"verify_signature": False})
        assert claims["sub"] == EMAIL
        assert "Cookie" not in sent
    assert fake.refreshes == 0  # the JWT from the sign-in was cached in Redis


async def test_a_signed_in_request_costs_one_redis_round_trip(gateway, auth, upstream) -> None:
    # The rate limiter's call also reads the session's cached JWT: the session middleware
    # does not ask Redis a second time.
    fake, auth_url = auth
    families = await upstream(echo_app())
    client = await gateway({"auth": auth_url, "families": families.url})
    await sign_in(client)
    redis = client.app[REDIS]
    sent: list[str] = []
    real = redis.execute_command

    async def counted(*args, **options):  # type: ignore[no-untyped-def]
        sent.append(str(args[0]))
        return await real(*args, **options)

    redis.execute_command = counted  # type: ignore[method-assign]
    for _ in range(3):
        response = await client.get("/api/families/x")
        sent_headers = (await response.json())["headers"]
        claims = jwt.decode(
            sent_headers["Authorization"].split()[1], options={"verify_signature": False}
        )
        assert claims["sub"] == EMAIL
    assert sent == ["EVALSHA"] * 3, sent
    assert fake.refreshes == 0


async def test_an_expired_session_loses_its_cookie_and_pages_ask_to_sign_in(gateway, auth) -> None:
    fake, auth_url = auth
    client = await gateway({"auth": auth_url})
    client.session.cookie_jar.update_cookies({"portail_session": "revoked-or-unknown"})
    response = await client.get("/", allow_redirects=False)
    assert response.status == 303
    assert URL(response.headers["Location"]).query["suite"] == "/"
    assert fake.refreshes == 1
    deleted = response.headers["Set-Cookie"]
    assert deleted.startswith('portail_session=""') and "Max-Age=0" in deleted


async def test_a_state_change_with_the_session_needs_the_token_and_our_origin(
    gateway, auth, upstream
) -> None:
    _fake, auth_url = auth
    families = await upstream(echo_app())
    client = await gateway({"auth": auth_url, "families": families.url})
    await sign_in(client)
    token = csrf_from(await (await client.get("/")).text())
    ours = same_origin(client)

    no_token = await client.post("/api/families/x", json={}, headers=ours)
    assert no_token.status == 403
    assert no_token.content_type == "application/problem+json"

    evil = await client.post(
        "/api/families/x",
        json={},
        headers={"Origin": "https://evil.example", "X-CSRF-Token": token},
    )
    assert evil.status == 403
    no_origin = await client.post("/api/families/x", json={}, headers={"X-CSRF-Token": token})
    assert no_origin.status == 403

    fine = await client.post("/api/families/x", json={}, headers={**ours, "X-CSRF-Token": token})
    assert fine.status == 200
    referer = await client.post(
        "/api/families/x",
        json={},
        headers={"Referer": settings_of(client).public_base_url + "/", "X-CSRF-Token": token},
    )
    assert referer.status == 200
    assert [seen["method"] for seen in families.seen].count("POST") == 2


async def test_signing_in_from_another_site_is_refused_with_a_french_page(gateway, auth) -> None:
    fake, auth_url = auth
    client = await gateway({"auth": auth_url})
    response = await sign_in(client, origin={"Origin": "https://evil.example"})
    assert response.status == 403
    assert response.content_type == "text/html"
    assert "Accès refusé" in await response.text()
    assert fake.sign_ins == []


async def test_signing_out_revokes_the_session_and_drops_the_cookie(gateway, auth) -> None:
    fake, auth_url = auth
    client = await gateway({"auth": auth_url})
    signed_in = await sign_in(client)
    session_token = signed_in.cookies["portail_session"].value
    token = csrf_from(await (await client.get("/")).text())
    response = await client.post(
        "/deconnexion",
        data={"csrf_token": token},
        headers=same_origin(client),
        allow_redirects=False,
    )
    assert response.status == 303
    assert response.headers["Location"] == "/connexion"
    assert fake.revoked == [session_token]
    assert "Max-Age=0" in response.headers["Set-Cookie"]
    after = await client.get("/", allow_redirects=False)
    assert after.status == 303


async def test_municipal_systems_with_a_bearer_and_no_cookie_need_no_csrf_token(
    gateway, upstream, signer
) -> None:
    families = await upstream(echo_app())
    client = await gateway({"families": families.url})
    response = await client.post(
        "/api/families/families", json={"name": "X"}, headers=signer.headers(role="service")
    )
    assert response.status == 200


async def test_signing_in_goes_back_to_the_page_asked_but_never_to_another_site(
    gateway, auth
) -> None:
    _fake, auth_url = auth
    client = await gateway({"auth": auth_url})
    for suite, expected in (("/factures?annee=2023", "/factures?annee=2023"),
                            ("//evil.example/x", "/"), ("https://evil.example", "/"),
                            # Browsers (and aiohttp's Location) drop tabs and line breaks.
                            ("/\t/evil.example", "/"), ("/\n/evil.example", "/"),
                            ("/\r\n/evil.example", "/")):  # fmt: skip
        response = await client.post(
            "/connexion",
            data={"email": EMAIL, "password": PASSWORD, "suite": suite},
            headers=same_origin(client),
            allow_redirects=False,
        )
        assert response.headers["Location"] == expected, suite
        client.session.cookie_jar.clear()  # signed in, a new sign-in would need the CSRF token


def test_outside_prod_localhost_and_127_0_0_1_are_the_same_origin() -> None:
    from gateway.config import GatewaySettings

    dev = GatewaySettings(profile="dev", public_base_url="http://127.0.0.1:8080")
    assert dev.allowed_origins == {"http://127.0.0.1:8080", "http://localhost:8080"}
    prod = GatewaySettings(
        profile="prod",
        public_base_url="https://portail.example.fr",
        redis_url="redis://r:6379/0",
        secret_key="a-real-secret-of-some-length",
    )
    assert prod.allowed_origins == {"https://portail.example.fr"}
