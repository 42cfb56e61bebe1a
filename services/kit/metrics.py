"""Prometheus metrics: request counts and latencies per route, exposed on /metrics."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

from .keys import METRICS

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class HttpMetrics:
    """The metrics of one application, in a registry of its own (tests build many apps)."""

    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests handled",
            ["service", "method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request duration",
            ["service", "method", "route"],
            registry=self.registry,
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.service = service


def _route_label(request: web.Request) -> str:
    # The route template, not the path: ids in paths would explode the label set.
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count and time every request by route template."""
    metrics = request.app[METRICS]
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        route = _route_label(request)
        metrics.requests.labels(metrics.service, request.method, route, str(status)).inc()
        metrics.latency.labels(metrics.service, request.method, route).observe(
            time.perf_counter() - started
        )


async def metrics_view(request: web.Request) -> web.Response:
    """GET /metrics in the Prometheus text format."""
    body = generate_latest(request.app[METRICS].registry)
    response = web.Response(body=body)
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response
