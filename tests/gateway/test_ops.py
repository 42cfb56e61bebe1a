"""Operations: liveness, readiness (Redis required, services reported), metrics, access logs."""

from __future__ import annotations

import json

from gateway.config import GatewaySettings
from services.kit.settings import SettingsError, load_settings

from .conftest import dead_url, echo_app


async def test_healthz_answers_without_touching_anything(gateway) -> None:
    client = await gateway(redis_url=dead_url().replace("http", "redis"))
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_readyz_needs_redis_and_names_the_services_that_are_down(gateway, upstream) -> None:
    families = await upstream(echo_app())
    client = await gateway({"families": families.url})
    response = await client.get("/readyz")
    assert response.status == 200
    body = await response.json()
    assert body["checks"] == {"redis": "ok"}
    assert body["services"]["families"] == "ok"
    assert sorted(body["down"]) == ["auth", "billing", "bookings", "documents", "notifications"]

    no_redis = await gateway(
        {"families": families.url}, redis_url=dead_url().replace("http", "redis")
    )
    response = await no_redis.get("/readyz")
    assert response.status == 503
    assert (await response.json())["checks"]["redis"] != "ok"


async def test_metrics_count_upstream_calls_by_service_and_outcome(gateway, upstream) -> None:
    families = await upstream(echo_app())
    client = await gateway({"families": families.url})
    await client.get("/api/families/x")
    await client.get("/api/billing/x")
    text = await (await client.get("/metrics")).text()
    assert 'gateway_upstream_calls_total{outcome="2xx",service="families"} 1.0' in text
    assert 'gateway_upstream_calls_total{outcome="unreachable",service="billing"} 1.0' in text
    assert "http_requests_total" in text


async def test_one_json_log_line_per_request_with_its_request_id(gateway, upstream, capsys) -> None:
    families = await upstream(echo_app())
    client = await gateway({"families": families.url})
    capsys.readouterr()
    await client.get("/api/families/x?secret=1", headers={"X-Request-Id": "req-log-line-0001"})
    lines = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")
    ]
    requests = [line for line in lines if line.get("msg") == "request"]
    assert len(requests) == 1
    line = requests[0]
    assert line["request_id"] == "req-log-line-0001"
    assert line["status"] == 200 and line["path"] == "/api/families/x"
    assert "secret" not in json.dumps(line)  # never the query string


def test_prod_refuses_to_start_without_its_settings(monkeypatch) -> None:
    monkeypatch.setenv("PORTAIL_PROFILE", "prod")
    for name in ("REDIS_URL", "PUBLIC_BASE_URL", "GATEWAY_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    try:
        load_settings(GatewaySettings)
    except SettingsError as error:
        message = str(error)
    else:
        raise AssertionError("prod started without its settings")
    for name in ("REDIS_URL", "PUBLIC_BASE_URL", "GATEWAY_SECRET_KEY"):
        assert name in message


def test_settings_come_from_the_documented_environment_variables(monkeypatch) -> None:
    monkeypatch.setenv("FAMILIES_SERVICE_URL", "http://families.internal:8102/")
    monkeypatch.setenv("GATEWAY_PORT", "9090")
    monkeypatch.setenv("GATEWAY_UPSTREAM_DEADLINE_SECONDS", "2.5")
    settings = load_settings(GatewaySettings)
    assert settings.service_urls()["families"] == "http://families.internal:8102"
    assert settings.service_urls()["notifications"] == "http://127.0.0.1:8106"
    assert settings.port == 9090
    assert settings.upstream_deadline_seconds == 2.5


def test_the_gateway_fetches_auths_keys_from_auth_itself_unless_told_otherwise(monkeypatch) -> None:
    monkeypatch.setenv("AUTH_SERVICE_URL", "http://auth.internal:8101")
    assert (
        load_settings(GatewaySettings).jwks_url == "http://auth.internal:8101/.well-known/jwks.json"
    )
    monkeypatch.setenv("JWKS_URL", "http://keys.internal/jwks.json")
    assert load_settings(GatewaySettings).jwks_url == "http://keys.internal/jwks.json"


async def test_metrics_are_the_cluster_s_not_a_visitor_s(gateway) -> None:
    # Behind the ingress (or Caddy) every visitor's request carries the X-Forwarded-For the
    # proxy appended; Prometheus scrapes the pod itself. The metrics told anyone the portal's
    # request counts and failures route by route.
    client = await gateway(trusted_proxy_hops=1)
    through_the_ingress = await client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert through_the_ingress.status == 404
    assert "http_requests_total" not in await through_the_ingress.text()
    scraped = await client.get("/metrics")
    assert scraped.status == 200
    assert "http_requests_total" in await scraped.text()


async def test_readiness_tells_the_public_only_whether_the_portal_is_ready(
    gateway, upstream
) -> None:
    # Which service is down and each breaker's state helped an attacker time a flood; and
    # each public call made the gateway probe all six services.
    families = await upstream(echo_app())
    calls_before = len(families.seen)
    client = await gateway({"families": families.url}, trusted_proxy_hops=1)
    through_the_ingress = await client.get("/readyz", headers={"X-Forwarded-For": "203.0.113.9"})
    assert through_the_ingress.status == 200
    assert await through_the_ingress.json() == {"status": "ready"}
    assert len(families.seen) == calls_before, "no service probed for the public"
    probed = await client.get("/readyz")
    assert (await probed.json())["services"]["families"] == "ok"
