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
