"""Operational routes: /healthz (alive), /readyz (Redis, and which services answer), /metrics."""

from __future__ import annotations

import asyncio

from aiohttp import ClientError, ClientTimeout, web

from services.kit.keys import READINESS
from services.kit.metrics import metrics_view

from .keys import BREAKERS, GATEWAY_SETTINGS, UPSTREAM_CLIENT

SERVICE_READY_TIMEOUT_SECONDS = 1.5


async def _service_ready(request: web.Request, name: str, base: str) -> str:
    try:
        async with request.app[UPSTREAM_CLIENT].get(
            f"{base}/readyz", timeout=ClientTimeout(total=SERVICE_READY_TIMEOUT_SECONDS)
        ) as response:
            return "ok" if response.status == 200 else f"not ready ({response.status})"
    except TimeoutError:
        return "down: timeout"
    except ClientError as exc:
        return f"down: {type(exc).__name__}"


async def readyz(request: web.Request) -> web.Response:
    """Ready when Redis is (the gateway's own dependency); services are reported, not required.

    A gateway that refused traffic because one service is down would take every page off
    the portal, the very thing the breakers and the dashboard's tiles exist to avoid.
    """
    checks = await request.app[READINESS].run()
    ready = all(value == "ok" for value in checks.values())
    if _from_the_public(request):
        # Which service is down and each breaker's state are the operators' business; and
        # a public call must not make the gateway probe every service.
        return web.json_response(
            {"status": "ready" if ready else "not ready"}, status=200 if ready else 503
        )
    services = request.app[GATEWAY_SETTINGS].service_urls()
    states = await asyncio.gather(
        *(_service_ready(request, name, base) for name, base in services.items())
    )
    return web.json_response(
        {
            "status": "ready" if ready else "not ready",
            "checks": checks,
            "services": dict(zip(services, states, strict=True)),
            "down": [name for name, state in zip(services, states, strict=True) if state != "ok"],
            "breakers": request.app[BREAKERS].states(),
        },
        status=200 if ready else 503,
    )


async def metrics(request: web.Request) -> web.StreamResponse:
    """/metrics for Prometheus, which scrapes the pod itself; from the public a 404, as the
    services' own /metrics are (their request counts and failures are nobody's)."""
    if _from_the_public(request):
        raise web.HTTPNotFound()
    return await metrics_view(request)


def _from_the_public(request: web.Request) -> bool:
    """Behind a proxy that appends `X-Forwarded-For` (ingress, Caddy), a request carrying one
    came through it, from the public; probes and Prometheus reach the pod directly."""
    behind_a_proxy = request.app[GATEWAY_SETTINGS].trusted_proxy_hops > 0
    return behind_a_proxy and "X-Forwarded-For" in request.headers
