"""Deadlines and uploads: a slow phone's upload is not a hung service, a hung service still is."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from gateway.config import GatewaySettings

from .conftest import echo_app

UPLOAD_PATH = "/api/documents/families/f1/documents/t1/files"


async def _slowly(chunks: int, pause: float):
    """A body that arrives like a phone's upload on a poor network."""
    for _ in range(chunks):
        await asyncio.sleep(pause)
        yield b"p" * 32 * 1024


async def test_a_slow_upload_longer_than_the_deadline_reaches_its_service(
    gateway, upstream
) -> None:
    documents = await upstream(echo_app())
    client = await gateway(
        {"documents": documents.url}, upstream_deadline_seconds=1.0, upload_deadline_seconds=10.0
    )
    started = time.perf_counter()

    response = await client.post(UPLOAD_PATH, data=_slowly(chunks=10, pause=0.25))

    assert response.status == 200, await response.text()
    assert time.perf_counter() - started > 2.0  # twice the normal deadline, spent sending
    assert (await response.json())["body_length"] == 10 * 32 * 1024


async def test_a_slow_body_on_other_paths_keeps_the_normal_deadline(gateway, upstream) -> None:
    families = await upstream(echo_app())
    client = await gateway(
        {"families": families.url}, upstream_deadline_seconds=1.0, upload_deadline_seconds=10.0
    )

    response = await client.post("/api/families/families", data=_slowly(chunks=2, pause=1.5))

    assert response.status == 504


async def test_a_service_hung_on_an_upload_is_cut_at_the_upload_deadline(gateway, upstream) -> None:
    app = web.Application(client_max_size=64 * 1024 * 1024)

    async def hang(request: web.Request) -> web.Response:
        await request.read()
        await asyncio.sleep(30)
        return web.Response()

    app.router.add_post("/{tail:.*}", hang)
    documents = await upstream(app)
    client = await gateway(
        {"documents": documents.url}, upstream_deadline_seconds=0.5, upload_deadline_seconds=2.0
    )
    started = time.perf_counter()

    response = await client.post(UPLOAD_PATH, data=b"x" * 1024)

    elapsed = time.perf_counter() - started
    assert response.status == 504
    assert response.content_type == "application/problem+json"
    assert 1.8 <= elapsed < 4.0  # the upload's own bound, not the service's 30 s


async def test_a_hung_service_on_a_normal_call_still_costs_the_normal_deadline(
    gateway, upstream
) -> None:
    app = web.Application()

    async def hang(_request: web.Request) -> web.Response:
        await asyncio.sleep(30)
        return web.Response()

    app.router.add_route("*", "/{tail:.*}", hang)
    families = await upstream(app)
    client = await gateway(
        {"families": families.url}, upstream_deadline_seconds=1.0, upload_deadline_seconds=20.0
    )
    started = time.perf_counter()

    response = await client.post("/api/families/families", json={"name": "X"})

    assert response.status == 504
    assert time.perf_counter() - started < 2.5


def test_the_upload_deadline_defaults_to_two_minutes() -> None:
    settings = GatewaySettings(profile="test")
    assert settings.upload_deadline_seconds == 120.0
    assert settings.upstream_deadline_seconds <= 5.0
