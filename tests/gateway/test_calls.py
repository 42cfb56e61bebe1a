"""`call_service`: pages call services as the visitor, through deadlines and breakers."""

from __future__ import annotations

import asyncio
import html

from aiohttp import web
from yarl import URL

from gateway.calls import call_service
from gateway.session import require_signed_in
from services.kit.problems import Conflict, Problem, problem_response

from .conftest import echo_app, same_origin
from .fakes import PASSWORD, FakeAuth
from .test_session import csrf_from


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


async def test_a_service_failure_reaches_the_page_in_french_not_as_its_english_detail(
    gateway, upstream, signer
) -> None:
    # A service's 500 says "An unexpected error occurred." for its logs; the parent who
    # pressed « Payer en ligne » reads the page's French message instead.
    fake = FakeAuth(signer, accounts={"p@example.org": ["fam-1"]})
    auth = await upstream(fake.app())
    billing = web.Application()

    async def crash(_request: web.Request) -> web.Response:
        return problem_response(Problem("An unexpected error occurred."))

    async def refuse(_request: web.Request) -> web.Response:
        return problem_response(Conflict("Un paiement en ligne est déjà en cours."))

    billing.router.add_post("/families/fam-1/invoices/inv-1/payfip", crash)
    billing.router.add_post("/families/fam-1/invoices/inv-2/payfip", refuse)
    client = await gateway({"auth": auth.url, "billing": (await upstream(billing)).url})
    await client.post(
        "/connexion",
        data={"email": "p@example.org", "password": PASSWORD},
        headers=same_origin(client),
    )

    token = csrf_from(await (await client.get("/")).text())
    form = {"csrf_token": token, "famille": "fam-1"}
    crashed = await client.post(
        "/factures/payer", data={**form, "facture": "inv-1"}, headers=same_origin(client)
    )
    page = html.unescape(await crashed.text())
    assert "Le paiement en ligne n'a pas pu commencer. Réessayez." in page
    assert "unexpected" not in page

    refused = await client.post(
        "/factures/payer", data={**form, "facture": "inv-2"}, headers=same_origin(client)
    )
    assert "Un paiement en ligne est déjà en cours." in html.unescape(await refused.text())
