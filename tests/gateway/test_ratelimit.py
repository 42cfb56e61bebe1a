"""Rate limits in Redis: 429 with Retry-After, stricter buckets, per identity, Redis down; a
bucket's line (`concurrency`): that many at once, the others wait, 503 past `queue_seconds`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml
from aiohttp import web

from gateway.config import DEFAULT_RATE_LIMITS
from gateway.ratelimit import RateLimitTable

from .conftest import dead_url, echo_app

SMALL_TABLE = {
    "buckets": {
        "default": {"window": 60, "per_ip": 5, "per_identity": 3, "fail_open": True},
        "login": {"window": 900, "per_ip": 2, "per_identity": 2, "fail_open": False},
    },
    "rules": [{"pattern": "^/api/auth/sessions$", "methods": ["POST"], "bucket": "login"}],
}


@pytest.fixture
def small_table(tmp_path: Path) -> Path:
    path = tmp_path / "limits.yaml"
    path.write_text(yaml.safe_dump(SMALL_TABLE))
    return path


async def test_past_the_limit_a_client_gets_429_with_retry_after(
    gateway, upstream, small_table
) -> None:
    families = await upstream(echo_app())
    client = await gateway({"families": families.url}, rate_limits_file=small_table)
    statuses = [(await client.get("/api/families/x")).status for _ in range(5)]
    assert statuses == [200] * 5
    refused = await client.get("/api/families/x")
    assert refused.status == 429
    assert refused.content_type == "application/problem+json"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert len(families.seen) == 5


async def test_login_has_a_stricter_bucket_than_the_rest(gateway, upstream, small_table) -> None:
    auth = await upstream(echo_app())
    client = await gateway({"auth": auth.url}, rate_limits_file=small_table)
    logins = [(await client.post("/api/auth/sessions", json={})).status for _ in range(3)]
    assert logins == [200, 200, 429]
    assert (await client.get("/api/auth/.well-known/jwks.json")).status == 200


async def test_each_identity_has_its_own_count(gateway, upstream, signer, small_table) -> None:
    families = await upstream(echo_app())
    client = await gateway({"families": families.url}, rate_limits_file=small_table)
    first = signer.headers(subject="a")
    second = signer.headers(subject="b")
    assert [(await client.get("/api/families/x", headers=first)).status for _ in range(4)] == [
        200, 200, 200, 429
    ]  # fmt: skip
    assert (await client.get("/api/families/x", headers=second)).status == 200


async def test_a_page_over_the_limit_gets_the_french_page_with_retry_after(
    gateway, small_table
) -> None:
    client = await gateway(rate_limits_file=small_table)
    for _ in range(5):
        await client.get("/connexion")
    refused = await client.get("/connexion")
    assert refused.status == 429
    assert refused.content_type == "text/html"
    assert "Trop de demandes" in await refused.text()
    assert refused.headers["Retry-After"]


async def test_without_redis_reads_go_through_and_login_is_refused(
    gateway, upstream, small_table
) -> None:
    auth = await upstream(echo_app())
    client = await gateway(
        {"auth": auth.url},
        rate_limits_file=small_table,
        redis_url=dead_url().replace("http", "redis"),
    )
    assert (await client.get("/api/auth/.well-known/jwks.json")).status == 200
    login = await client.post("/api/auth/sessions", json={})
    assert login.status == 503
    assert login.headers["Retry-After"] == "5"
    metrics = await (await client.get("/metrics")).text()
    assert "gateway_rate_limit_store_errors_total 2.0" in metrics


def test_the_shipped_table_puts_sensitive_paths_in_strict_buckets() -> None:
    table = RateLimitTable.from_file(DEFAULT_RATE_LIMITS)
    cases = {
        ("POST", "/api/auth/sessions"): "login",
        ("POST", "/connexion"): "login",
        ("POST", "/api/auth/password-resets"): "reset",
        ("POST", "/api/notifications/contact"): "contact",
        ("POST", "/api/documents/uploads"): "upload",
        ("POST", "/api/bookings/reservations"): "booking",
        ("GET", "/api/bookings/reservations"): "default",
        ("GET", "/connexion"): "default",
        # Pages and APIs that did the same as the above and fell to the default bucket.
        ("POST", "/reinitialisation"): "reset",
        ("POST", "/premiere-connexion"): "reset",
        ("POST", "/premiere-connexion/nouveau-lien"): "reset",
        ("POST", "/api/auth/invitations/renew"): "reset",
        ("POST", "/api/notifications/families/f1/contact-messages"): "contact",
        ("POST", "/api/notifications/contact-messages/m1/replies"): "contact",
        ("POST", "/documents/envoyer"): "upload",
        ("POST", "/agents/documentation/d1/fichier"): "upload",
        ("GET", "/reinitialisation"): "default",
        ("GET", "/api/notifications/families/f1/contact-messages"): "default",
    }
    for (method, path), bucket in cases.items():
        assert table.bucket_for(method, path).name == bucket, (method, path)
    assert table.buckets["login"].per_ip < table.buckets["default"].per_ip
    assert not table.buckets["login"].fail_open
    # An opening-day rush waits in line at the gateway (a place per pooled connection and more).
    assert table.buckets["booking"].concurrency == 16
    assert table.buckets["default"].concurrency is None


def test_a_table_naming_an_unknown_bucket_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown buckets"):
        RateLimitTable.from_document(
            {
                "buckets": {"default": SMALL_TABLE["buckets"]["default"]},
                "rules": [{"pattern": "x", "bucket": "nope"}],
            }
        )


class _Held:
    """A service holding every request until `gate` opens: how many it holds, the most at once."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.inside = 0
        self.most = 0
        self.changed = asyncio.Condition()

    def app(self) -> web.Application:
        app = web.Application()

        async def held(_request: web.Request) -> web.Response:
            async with self.changed:
                self.inside += 1
                self.most = max(self.most, self.inside)
                self.changed.notify_all()
            try:
                await self.gate.wait()
            finally:
                self.inside -= 1
            return web.json_response({})

        app.router.add_route("*", "/{tail:.*}", held)
        return app

    async def until_inside(self, count: int) -> None:
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(lambda: self.inside == count), 10)


def _table_with_a_line(tmp_path: Path, concurrency: int, queue_seconds: float) -> Path:
    table = {
        "buckets": {
            "default": {"window": 60, "per_ip": 1000, "per_identity": 1000},
            "booking": {"window": 60, "per_ip": 1000, "per_identity": 1000,
                        "concurrency": concurrency, "queue_seconds": queue_seconds},
        },
        "rules": [{"pattern": "^/api/bookings/", "methods": ["POST"], "bucket": "booking"}],
    }  # fmt: skip
    path = tmp_path / "limits.yaml"
    path.write_text(yaml.safe_dump(table))
    return path


async def test_a_bucket_with_a_concurrency_lets_that_many_through_the_others_wait_in_line(
    gateway, upstream, tmp_path
) -> None:
    held = _Held()
    bookings = await upstream(held.app())
    client = await gateway(
        {"bookings": bookings.url},
        rate_limits_file=_table_with_a_line(tmp_path, concurrency=2, queue_seconds=30),
        upstream_deadline_seconds=30.0,
    )
    saves = [asyncio.ensure_future(client.post("/api/bookings/x", json={})) for _ in range(5)]
    await held.until_inside(2)
    await asyncio.sleep(0.5)  # room for a third to (wrongly) reach the service
    assert held.inside == 2
    held.gate.set()
    statuses = [(await save).status for save in saves]
    assert statuses == [200] * 5
    assert held.most == 2


async def test_past_queue_seconds_a_request_waiting_in_line_gets_503(
    gateway, upstream, tmp_path
) -> None:
    held = _Held()
    bookings = await upstream(held.app())
    client = await gateway(
        {"bookings": bookings.url},
        rate_limits_file=_table_with_a_line(tmp_path, concurrency=1, queue_seconds=0.5),
        upstream_deadline_seconds=30.0,
    )
    first = asyncio.ensure_future(client.post("/api/bookings/x", json={}))
    await held.until_inside(1)
    second = await client.post("/api/bookings/x", json={})
    assert second.status == 503
    assert second.content_type == "application/problem+json"
    assert second.headers["Retry-After"] == "5"
    held.gate.set()
    assert (await first).status == 200
    assert held.most == 1
