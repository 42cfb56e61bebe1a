"""Security headers on every response: pages, error pages, problems, proxied answers, static."""

from __future__ import annotations

from .conftest import echo_app

EVERYWHERE = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}


def assert_secured(response, *, cache: str = "no-store") -> None:
    for name, value in EVERYWHERE.items():
        assert response.headers.get(name) == value, (response.url, name)
    assert "camera=()" in response.headers["Permissions-Policy"]
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["Cache-Control"] == cache


async def test_every_kind_of_response_carries_the_security_headers(gateway, upstream) -> None:
    families = await upstream(echo_app())
    client = await gateway({"families": families.url})
    responses = {
        "page": await client.get("/connexion"),
        "missing page": await client.get("/nulle-part"),
        "api problem": await client.get("/api/unknown/x"),
        "proxied": await client.get("/api/families/x"),
        "dead service": await client.get("/api/billing/x"),
        "too large": await client.post("/api/families/x", data=b"x" * 70_000),
        "bad method": await client.delete("/connexion"),
    }
    assert responses["missing page"].status == 404
    assert responses["dead service"].status == 502
    assert responses["too large"].status == 413
    assert responses["bad method"].status == 405
    for response in responses.values():
        assert_secured(response)
    assert "default-src 'self'" in responses["page"].headers["Content-Security-Policy"]
    assert "default-src 'none'" in responses["proxied"].headers["Content-Security-Policy"]
    static = await client.get("/static/portail.css")
    assert static.status == 200
    assert_secured(static, cache="public, max-age=3600")


async def test_hsts_is_sent_in_prod_only(gateway) -> None:
    dev = await gateway()
    assert "Strict-Transport-Security" not in (await dev.get("/connexion")).headers
    prod = await gateway(public_base_url="https://portail.example.fr")
    hsts = (await prod.get("/nulle-part")).headers["Strict-Transport-Security"]
    assert "max-age=63072000" in hsts


async def test_a_page_script_nonce_matches_the_csp_of_its_response(gateway) -> None:
    client = await gateway()
    response = await client.get("/connexion")
    csp = response.headers["Content-Security-Policy"]
    nonce = csp.split("'nonce-")[1].split("'")[0]
    assert len(nonce) >= 16
    other = (await client.get("/connexion")).headers["Content-Security-Policy"]
    assert nonce not in other  # a fresh nonce per response


async def test_a_service_own_csp_is_kept_for_its_downloads(gateway, upstream) -> None:
    from aiohttp import web

    app = web.Application()

    async def download(_request: web.Request) -> web.Response:
        return web.Response(body=b"%PDF", headers={"Content-Security-Policy": "sandbox"})

    app.router.add_get("/files/1", download)
    documents = await upstream(app)
    client = await gateway({"documents": documents.url})
    response = await client.get("/api/documents/files/1")
    assert response.headers["Content-Security-Policy"] == "sandbox"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
