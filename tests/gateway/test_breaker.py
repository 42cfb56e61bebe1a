"""The circuit breaker: opens after consecutive failures, answers 503 at once, recovers."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from gateway.breaker import BreakerState, CircuitBreaker


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_breaker_opens_after_the_threshold_and_lets_one_probe_through_later() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("x", failure_threshold=3, reset_seconds=10, clock=clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow()
    assert breaker.retry_after() == 10
    clock.now = 10.5
    assert breaker.allow()  # the probe
    assert not breaker.allow()  # only one at a time
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    clock.now = 21
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED and breaker.allow()


def test_a_success_resets_the_count_of_consecutive_failures() -> None:
    breaker = CircuitBreaker("x", failure_threshold=2, reset_seconds=10)
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED


async def test_a_failing_service_is_cut_off_then_recovers(gateway, upstream) -> None:
    state = {"broken": True, "hits": 0}
    app = web.Application()

    async def handler(_request: web.Request) -> web.Response:
        state["hits"] += 1
        if state["broken"]:
            return web.json_response({"detail": "db down"}, status=503)
        return web.json_response({"ok": True})

    app.router.add_get("/invoices", handler)
    billing = await upstream(app)
    client = await gateway(
        {"billing": billing.url}, breaker_failure_threshold=3, breaker_reset_seconds=0.5
    )
    statuses = [(await client.get("/api/billing/invoices")).status for _ in range(3)]
    assert statuses == [503, 503, 503]  # the service's own answers, passed on
    assert state["hits"] == 3

    started = time.perf_counter()
    cut = await client.get("/api/billing/invoices")
    assert time.perf_counter() - started < 0.5  # no call, no wait: refused at once
    assert cut.status == 503
    assert cut.content_type == "application/problem+json"
    assert cut.headers["Retry-After"] == "1"
    assert state["hits"] == 3  # the open breaker did not call the service

    state["broken"] = False
    await asyncio.sleep(0.6)
    probe = await client.get("/api/billing/invoices")
    assert probe.status == 200
    assert (await client.get("/api/billing/invoices")).status == 200
    assert state["hits"] == 5


async def test_one_failing_service_does_not_cut_the_others(gateway, upstream) -> None:
    from .conftest import dead_url, echo_app

    families = await upstream(echo_app())
    client = await gateway(
        {"families": families.url, "billing": dead_url()}, breaker_failure_threshold=1
    )
    assert (await client.get("/api/billing/x")).status == 502
    assert (await client.get("/api/billing/x")).status == 503
    assert (await client.get("/api/families/x")).status == 200
