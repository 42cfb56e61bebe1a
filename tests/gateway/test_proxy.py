"""Routing `/api/<service>/…`: forwarding, deadlines, dead services, retries, size limits."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from gateway.config import GatewaySettings

from .conftest import SEEN, dead_url, echo_app, free_port


async def test_a_call_reaches_its_service_with_the_prefix_stripped_and_the_query_kept(
    gateway, upstream
) -> None:
    families = await upstream(echo_app())
    client = await gateway({"families": families.url})
    response = await client.get("/api/families/families/4%2F2?page=2&q=a%20b")
    assert response.status == 200
    seen = await response.json()
    assert seen["path"] == "/families/4/2"
    assert seen["raw_path"] == "/families/4%2F2"
    assert seen["query"] == "page=2&q=a%20b"
    assert response.headers["X-Upstream"] == "echo"


async def test_hop_by_hop_cookies_and_identity_headers_are_not_forwarded(gateway, upstream) -> None:
    families = await upstream(echo_app())
    client = await gateway({"families": families.url})
    response = await client.get(
        "/api/families/x",
        headers={
            "Connection": "keep-alive, X-Secret-Hop",
            "X-Secret-Hop": "1",
            "Proxy-Authorization": "Basic abc",
            "X-User-Id": "admin",
            "X-Identity-Role": "staff",
            "X-Forwarded-User": "staff@mairie",
            "Cookie": "other=1",
            "X-Request-Id": "req-from-the-client-0001",
            "Accept-Language": "fr",
        },
    )
    sent = {name.lower(): value for name, value in (await response.json())["headers"].items()}
    for dropped in ("x-secret-hop", "proxy-authorization", "x-user-id", "x-identity-role",
                    "x-forwarded-user", "cookie"):  # fmt: skip
        assert dropped not in sent, dropped
    assert sent["accept-language"] == "fr"
    assert sent["x-request-id"] == "req-from-the-client-0001"
    assert response.headers["X-Request-Id"] == "req-from-the-client-0001"
    assert sent["x-forwarded-for"] == "127.0.0.1"


async def test_a_bearer_token_without_session_passes_through_unchanged(
    gateway, upstream, signer
) -> None:
    families = await upstream(echo_app())
    client = await gateway({"families": families.url})
    headers = signer.headers(role="service", scopes=["families:read"])
    response = await client.get("/api/families/families", headers=headers)
    assert (await response.json())["headers"]["Authorization"] == headers["Authorization"]


async def test_request_and_response_bodies_stream_through_whole(gateway, upstream) -> None:
    app = web.Application(client_max_size=32 * 1024 * 1024)
    big = bytes(range(256)) * 4096 * 2  # 2 MiB

    async def download(_request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        await response.prepare(_request)
        for start in range(0, len(big), 100_000):
            await response.write(big[start : start + 100_000])
        return response

    async def upload(request: web.Request) -> web.Response:
        return web.json_response({"received": len(await request.read())})

    app.router.add_get("/blob", download)
    app.router.add_post("/upload", upload)
    documents = await upstream(app)
    client = await gateway({"documents": documents.url})

    response = await client.get("/api/documents/blob")
    assert await response.read() == big

    async def chunks():
        for _ in range(20):
            yield b"x" * 100_000

    response = await client.post("/api/documents/upload", data=chunks())
    assert response.status == 200
    assert (await response.json())["received"] == 2_000_000


async def test_an_unknown_service_is_a_404_problem(gateway) -> None:
    client = await gateway()
    response = await client.get("/api/payroll/anything")
    assert response.status == 404
    assert response.content_type == "application/problem+json"
    assert "payroll" in (await response.json())["detail"]


async def test_a_hung_service_is_answered_504_within_the_deadline(gateway, upstream) -> None:
    app = web.Application()

    async def hang(_request: web.Request) -> web.Response:
        await asyncio.sleep(30)
        return web.Response()

    app.router.add_get("/slow", hang)
    bookings = await upstream(app)
    client = await gateway({"bookings": bookings.url}, upstream_deadline_seconds=1.0)
    started = time.perf_counter()
    response = await client.get("/api/bookings/slow")
    elapsed = time.perf_counter() - started
    assert response.status == 504
    assert response.content_type == "application/problem+json"
    body = await response.json()
    assert body["type"].endswith("/gateway-timeout")
    assert 0.9 <= elapsed < 3.0  # the service would hang 30 s


def test_the_default_deadline_keeps_a_hung_service_under_five_seconds() -> None:
    assert GatewaySettings(profile="test").upstream_deadline_seconds <= 5.0


async def test_a_dead_service_is_a_502_problem(gateway) -> None:
    client = await gateway({"billing": dead_url()})
    started = time.perf_counter()
    response = await client.get("/api/billing/invoices")
    assert response.status == 502
    assert response.content_type == "application/problem+json"
    assert "billing" in (await response.json())["detail"]
    assert time.perf_counter() - started < 2.5


async def test_a_read_is_retried_while_the_service_starts_but_a_write_is_not(
    gateway, aiohttp_server
) -> None:
    # The GET's retries span about 1.5 s and the service comes up after 0.1 s; the POST's
    # service comes up only after 1 s, long after its single, refused attempt (margins for
    # a loaded machine, where a request can be late by a good part of a second).
    for method, expected, starts_after in (("GET", 200, 0.1), ("POST", 502, 1.0)):
        port = free_port()
        client = await gateway(
            {"notifications": f"http://127.0.0.1:{port}"},
            safe_retries=5,
            upstream_deadline_seconds=3,
        )
        later = asyncio.create_task(_start_after(aiohttp_server, port, starts_after))
        response = await client.request(method, "/api/notifications/contact")
        await later
        # GET: refused at first, then served by a retry. POST: sent once, never repeated.
        assert response.status == expected, method


async def _start_after(aiohttp_server, port: int, delay: float) -> None:
    await asyncio.sleep(delay)
    await aiohttp_server(echo_app(), host="127.0.0.1", port=port)


async def test_a_declared_oversized_json_body_is_refused_before_the_service_sees_it(
    gateway, upstream
) -> None:
    families = await upstream(echo_app())
    client = await gateway({"families": families.url}, max_json_body_bytes=64 * 1024)
    response = await client.post(
        "/api/families/families",
        data=b"{" + b" " * (65 * 1024) + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 413
    assert response.content_type == "application/problem+json"
    assert families.server.app[SEEN] == []


async def test_a_streamed_oversized_body_is_cut_with_413(gateway, upstream) -> None:
    app = web.Application(client_max_size=64 * 1024 * 1024)
    received: list[int] = []

    async def sink(request: web.Request) -> web.Response:
        total = 0
        try:
            async for chunk in request.content.iter_any():
                total += len(chunk)
        finally:
            received.append(total)
        return web.json_response({"received": total})

    app.router.add_post("/families", sink)
    families = await upstream(app)
    client = await gateway({"families": families.url}, max_json_body_bytes=64 * 1024)

    async def chunks():  # no Content-Length: the gateway must count as it streams
        for _ in range(50):
            yield b"y" * 16 * 1024

    response = await client.post("/api/families/families", data=chunks())
    assert response.status == 413
    assert response.content_type == "application/problem+json"
    assert all(total <= 80 * 1024 for total in received)


async def test_upload_paths_accept_larger_bodies_up_to_their_own_limit(gateway, upstream) -> None:
    documents = await upstream(echo_app())
    client = await gateway(
        {"documents": documents.url},
        max_json_body_bytes=64 * 1024,
        max_upload_body_bytes=1024 * 1024,
    )
    fine = await client.post("/api/documents/uploads", data=b"z" * 512 * 1024)
    assert fine.status == 200
    assert (await fine.json())["body_length"] == 512 * 1024
    too_big = await client.post("/api/documents/uploads", data=b"z" * (1024 * 1024 + 1))
    assert too_big.status == 413


async def test_an_answer_cut_short_by_the_service_is_a_502_not_a_truncated_200(
    gateway, upstream
) -> None:
    app = web.Application()

    async def cut(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": "1000"})
        await response.prepare(request)
        await response.write(b'{"partial": ')
        assert request.transport is not None
        request.transport.close()  # the service dies mid-answer
        return response

    app.router.add_get("/cut", cut)
    billing = await upstream(app)
    client = await gateway({"billing": billing.url})
    response = await client.get("/api/billing/cut")
    assert response.status == 502
    assert response.content_type == "application/problem+json"
