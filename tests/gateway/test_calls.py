"""`call_service`: pages call services as the visitor, through deadlines and breakers."""

from __future__ import annotations

import asyncio

from aiohttp import web
from yarl import URL

from gateway.calls import call_service
from gateway.session import require_signed_in

from .conftest import echo_app, same_origin
from .fakes import PASSWORD, FakeAuth


def family_page(app: web.Application) -> None:
    async def page(request: web.Request) -> web.Response:
        await require_signed_in(request)
        reply = await call_service(request, "families", "GET", "/families/1", params={"a": "b"})
        return web.json_response({"status": reply.status, "seen": reply.data})

    app.router.add_get("/essai-appel-service", page)


async def test_a_page_calls_a_service_with_the_visitors_token(gateway, upstream, signer) -> None:
    fake = FakeAuth(signer, accounts={"p@example.org": ["fam-1"]})
    auth = await upstream(fake.app())
    families = await upstream(echo_app())
    client = await gateway({"auth": auth.url, "families": families.url}, setup=family_page)
    anonymous = await client.get("/essai-appel-service", allow_redirects=False)
    assert URL(anonymous.headers["Location"]) == URL("/connexion").with_query(
        suite="/essai-appel-service"
    )
    await client.post(
        "/connexion",
        data={"email": "p@example.org", "password": PASSWORD},
        headers=same_origin(client),
    )
    body = await (await client.get("/essai-appel-service")).json()
    assert body["status"] == 200
    assert body["seen"]["path"] == "/families/1" and body["seen"]["query"] == "a=b"
    assert body["seen"]["headers"]["Authorization"].startswith("Bearer ey")


async def test_a_slow_service_behind_a_page_is_a_french_504_page(gateway, upstream, signer) -> None:
    fake = FakeAuth(signer, accounts={"p@example.org": ["fam-1"]})
    auth = await upstream(fake.app())
    slow = web.Application()

    async def hang(_request: web.Request) -> web.Response:
        await asyncio.sleep(10)
        return web.Response()

    slow.router.add_get("/families/1", hang)
    families = await upstream(slow)
    client = await gateway(
        {"auth": auth.url, "families": families.url},
        setup=family_page,
        upstream_deadline_seconds=0.5,
    )
    await client.post(
        "/connexion",
        data={"email": "p@example.org", "password": PASSWORD},
        headers=same_origin(client),
    )
    response = await client.get("/essai-appel-service")
    assert response.status == 504
    assert "Service momentanément indisponible" in await response.text()


async def test_pages_get_the_verified_claims_and_nothing_from_a_forged_token(
    gateway, upstream, signer
) -> None:
    from gateway.session import current_claims

    def claims_page(app: web.Application) -> None:
        async def page(request: web.Request) -> web.Response:
            return web.json_response(await current_claims(request))

        app.router.add_get("/essai-claims", page)

    fake = FakeAuth(signer, accounts={"p@example.org": ["fam-1"]})
    auth = await upstream(fake.app())
    client = await gateway({"auth": auth.url}, setup=claims_page)
    assert await (await client.get("/essai-claims")).json() == {}
    await client.post(
        "/connexion",
        data={"email": "p@example.org", "password": PASSWORD},
        headers=same_origin(client),
    )
    claims = await (await client.get("/essai-claims")).json()
    assert claims["sub"] == "p@example.org"
    assert claims["fam"][0]["id"] == "fam-1"

    from services.kit.testing import TestSigner

    fake.signer = TestSigner()  # auth now hands out tokens of a key nobody trusts
    client.session.cookie_jar.clear()
    await client.post(
        "/connexion",
        data={"email": "p@example.org", "password": PASSWORD},
        headers=same_origin(client),
    )
    assert await (await client.get("/essai-claims")).json() == {}
