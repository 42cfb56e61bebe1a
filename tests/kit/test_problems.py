"""Errors are problem+json, rendered in one place."""

from __future__ import annotations

import asyncio
import socket

from aiohttp import web

from services.kit.problems import Conflict, Handler, problem_middleware


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


async def test_a_client_gone_mid_body_is_no_server_error() -> None:
    # A closed tab or a killed gateway mid-upload: aiohttp's body read raises
    # ConnectionResetError. Nobody is left to answer, and it is no failure of the service:
    # it was logged as `unhandled_error` and counted as a 500.
    outcomes: list[int] = []

    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        outcomes.append(response.status)
        return response

    async def upload(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text="read")

    app = web.Application(middlewares=[record, problem_middleware])
    app.router.add_post("/upload", upload)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.SockSite(runner, socket.create_server(("127.0.0.1", 0)))
    await site.start()
    try:
        _, writer = await asyncio.open_connection(*site._sock.getsockname()[:2])
        head = b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"
        writer.write(head + b"a" * 1000)
        await writer.drain()
        await asyncio.sleep(0.2)
        writer.close()
        for _ in range(100):
            if outcomes:
                break
            await asyncio.sleep(0.05)
    finally:
        await runner.cleanup()
    assert outcomes and outcomes[0] < 500, outcomes
