"""Prometheus metrics of the calls the gateway makes to the services."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class UpstreamMetrics:
    """Outcome and duration of upstream calls, per service (in the app's own registry)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.calls = Counter(
            "gateway_upstream_calls_total",
            "Calls to a service by outcome (status class, timeout, unreachable, breaker_open)",
            ["service", "outcome"],
            registry=registry,
        )
        self.latency = Histogram(
            "gateway_upstream_seconds",
            "Time to the upstream response headers",
            ["service"],
            registry=registry,
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.rate_limited = Counter(
            "gateway_rate_limited_total",
            "Requests refused with 429, by bucket",
            ["bucket"],
            registry=registry,
        )
        self.rate_limit_errors = Counter(
            "gateway_rate_limit_store_errors_total",
            "Rate-limit checks that could not reach Redis",
            registry=registry,
        )
