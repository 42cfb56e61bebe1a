"""Errors are problem+json, rendered in one place."""

from __future__ import annotations

from aiohttp import web

from services.kit.problems import Conflict, problem_middleware


async def test_a_raised_problem_is_rendered_with_its_type(aiohttp_client) -> None:
    async def handler(_request: web.Request) -> web.Response:
        raise Conflict("Someone changed this record meanwhile.", version=3)

    app = web.Application(middlewares=[problem_middleware])
    app.router.add_get("/x", handler)
    client = await aiohttp_client(app)
    response = await client.get("/x")
    assert response.status == 409
    assert response.headers["Content-Type"] == "application/problem+json"
    assert await response.json() == {
        "type": "https://portail-famille.fr/problems/conflict",
        "title": "Conflict",
        "status": 409,
        "detail": "Someone changed this record meanwhile.",
        "instance": "/x",
        "version": 3,
    }


async def test_an_unexpected_error_is_a_500_problem_without_internals(aiohttp_client) -> None:
    async def handler(_request: web.Request) -> web.Response:
        raise RuntimeError("secret internals")

    app = web.Application(middlewares=[problem_middleware])
    app.router.add_get("/boom", handler)
    client = await aiohttp_client(app)
    response = await client.get("/boom")
    assert response.status == 500
    assert "secret" not in await response.text()
