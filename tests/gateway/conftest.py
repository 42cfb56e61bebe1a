"""Gateway tests: the real gateway on a real port, real Redis, real upstream aiohttp apps."""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from gateway.config import SERVICE_NAMES, GatewaySettings
from services.kit.testing import TestSigner
from tests import support

GatewayClient = TestClient[web.Request, web.Application]


def free_port() -> int:
    """A port nothing listens on (bound then released by the OS)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def dead_url() -> str:
    """The address of a service that is not running."""
    return f"http://127.0.0.1:{free_port()}"


@dataclass
class Upstream:
    """A tiny service on a random port that records what it received."""

    server: TestServer
    seen: list[dict[str, Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")


UpstreamFactory = Callable[[web.Application], Awaitable[Upstream]]


@pytest.fixture
async def upstream(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> UpstreamFactory:
    """Start an aiohttp app as a service; its handlers may append to `app['seen']`."""

    async def start(app: web.Application) -> Upstream:
        server = await aiohttp_server(app, host="127.0.0.1")
        return Upstream(server, app.get(SEEN, []))

    return start


SEEN: web.AppKey[list[dict[str, Any]]] = web.AppKey("seen", list)


def echo_app() -> web.Application:
    """A service echoing the request it got (method, path, query, headers, body)."""
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[SEEN] = []

    async def echo(request: web.Request) -> web.Response:
        body = await request.read()
        record = {
            "method": request.method,
            "path": request.path,
            "raw_path": request.rel_url.raw_path,
            "query": request.rel_url.raw_query_string,
            "headers": dict(request.headers),
            "body_length": len(body),
        }
        request.app[SEEN].append(record)
        return web.json_response(record, headers={"X-Upstream": "echo"})

    app.router.add_route("*", "/{tail:.*}", echo)
    return app


GatewayFactory = Callable[..., Awaitable[GatewayClient]]


@pytest.fixture
async def gateway(
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    aiohttp_client: Callable[..., Awaitable[GatewayClient]],
    signer: TestSigner,
) -> GatewayFactory:
    """Build the gateway on a free port; services not given point at dead addresses."""

    async def make(
        services: dict[str, str] | None = None,
        *,
        setup: Callable[[web.Application], None] | None = None,
        **overrides: Any,
    ) -> GatewayClient:
        port = free_port()
        urls = {name: (services or {}).get(name) or dead_url() for name in SERVICE_NAMES}
        values: dict[str, Any] = {
            "profile": "test",
            "redis_url": support.redis_url(),
            "redis_key_prefix": f"gwtest:{uuid.uuid4().hex[:8]}",
            "jwks_json": json.dumps(signer.jwks),
            "public_base_url": f"http://127.0.0.1:{port}",
            "secret_key": "a-test-secret-of-enough-length",
            # Room for a loaded machine: the services share the test's one loop, and CI saw
            # auth's answer to a language switch cut at a 1 s deadline (then 1 s connect).
            # The tests of the deadlines and timeouts set their own.
            "upstream_deadline_seconds": 5.0,
            "upstream_connect_timeout_seconds": 5.0,
            "dashboard_deadline_seconds": 5.0,
            **{f"{name}_service_url": url for name, url in urls.items()},
        }
        values.update(overrides)
        settings = GatewaySettings(**values)
        app = create_app(settings)
        if setup is not None:
            setup(app)  # a test page, added the way page modules add theirs
        server = await aiohttp_server(app, host="127.0.0.1", port=port)
        return await aiohttp_client(server)

    return make


def settings_of(client: GatewayClient) -> GatewaySettings:
    """The settings the gateway under test runs with."""
    from gateway.keys import GATEWAY_SETTINGS

    return client.server.app[GATEWAY_SETTINGS]  # type: ignore[union-attr]


def same_origin(client: GatewayClient) -> dict[str, str]:
    """The Origin header of the gateway's own pages."""
    return {"Origin": settings_of(client).public_origin}
