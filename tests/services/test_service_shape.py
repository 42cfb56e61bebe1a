"""Every service has the same shape: health, readiness, OpenAPI, problems, identity checks."""

from __future__ import annotations

import pytest

from services.kit.testing import TestSigner

DASHBOARD_SERVICES = ["families", "bookings", "billing", "documents"]


@pytest.mark.parametrize("name", DASHBOARD_SERVICES)
async def test_health_and_readiness_answer(service_client, name: str) -> None:
    client = await service_client(name)
    health = await client.get("/healthz")
    ready = await client.get("/readyz")
    assert health.status == 200
    assert ready.status == 200, await ready.text()
    checks = (await ready.json())["checks"]
    assert checks["database"] == checks["redis"] == "ok"
    assert set(checks) <= {"database", "redis", "s3"}
    assert all(value == "ok" for value in checks.values())


@pytest.mark.parametrize("name", DASHBOARD_SERVICES)
async def test_readiness_reports_a_dead_redis(service_client, name: str) -> None:
    client = await service_client(name, redis_url="redis://127.0.0.1:1/0")
    ready = await client.get("/readyz")
    assert ready.status == 503
    assert (await ready.json())["checks"]["redis"] != "ok"


@pytest.mark.parametrize("name", DASHBOARD_SERVICES)
async def test_openapi_document_describes_the_dashboard(service_client, name: str) -> None:
    client = await service_client(name)
    document = await (await client.get("/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    assert "/dashboard/{family_id}" in document["paths"]


@pytest.mark.parametrize("name", DASHBOARD_SERVICES)
async def test_dashboard_tile_for_the_callers_family(
    service_client, signer: TestSigner, name: str
) -> None:
    client = await service_client(name)
    response = await client.get("/dashboard/fam-1", headers=signer.headers(families=["fam-1"]))
    assert response.status == 200
    tiles = await response.json()
    assert tiles and all(isinstance(tile["count"], int) for tile in tiles.values())


@pytest.mark.parametrize("name", DASHBOARD_SERVICES)
async def test_dashboard_refuses_anonymous_and_other_families(
    service_client, signer: TestSigner, name: str
) -> None:
    client = await service_client(name)
    anonymous = await client.get("/dashboard/fam-1")
    foreign = await client.get("/dashboard/fam-1", headers=signer.headers(families=["fam-2"]))
    assert anonymous.status == 401
    assert foreign.status == 404


@pytest.mark.parametrize("name", DASHBOARD_SERVICES)
async def test_unknown_route_and_wrong_method_are_problems(service_client, name: str) -> None:
    client = await service_client(name)
    unknown = await client.get("/no/such/route")
    wrong = await client.delete("/healthz")
    assert unknown.status == 404
    assert wrong.status == 405
    for response in (unknown, wrong):
        assert response.headers["Content-Type"].startswith("application/problem+json")
        assert (await response.json())["detail"]


@pytest.mark.parametrize("name", DASHBOARD_SERVICES)
async def test_oversized_body_is_refused_before_parsing(
    service_client, signer: TestSigner, name: str
) -> None:
    client = await service_client(name)
    response = await client.post(
        "/dashboard/fam-1",
        data=b"x" * (200 * 1024),
        headers={**signer.headers(role="staff"), "Content-Type": "application/json"},
    )
    assert response.status in (405, 413)
    assert response.headers["Content-Type"].startswith("application/problem+json")


@pytest.mark.parametrize("name", DASHBOARD_SERVICES)
async def test_metrics_count_requests_by_route(
    service_client, signer: TestSigner, name: str
) -> None:
    client = await service_client(name)
    await client.get("/dashboard/fam-1", headers=signer.headers(families=["fam-1"]))
    metrics = await (await client.get("/metrics")).text()
    assert 'route="/dashboard/{family_id}"' in metrics


async def test_request_id_is_kept_or_made(service_client) -> None:
    client = await service_client("families")
    kept = await client.get("/healthz", headers={"X-Request-Id": "caller-chosen-id-1234"})
    hostile = await client.get("/healthz", headers={"X-Request-Id": "<script>alert(1)</script>"})
    assert kept.headers["X-Request-Id"] == "caller-chosen-id-1234"
    assert "<" not in hostile.headers["X-Request-Id"]
    assert len(hostile.headers["X-Request-Id"]) == 32


@pytest.mark.parametrize("name", DASHBOARD_SERVICES)
async def test_control_characters_in_ids_are_a_400_not_a_500(
    service_client, signer: TestSigner, name: str
) -> None:
    client = await service_client(name)
    response = await client.get("/dashboard/a%00b", headers=signer.headers(role="staff"))
    assert response.status == 400
    assert "control characters" in (await response.json())["detail"]
