"""A service's operational addresses (`/metrics`, `/readyz`, `/healthz`) are the cluster's:
through the public gateway they are a 404, and the service never sees the call. Its metrics
told anyone request volumes and failures route by route; its readiness, what it depends on."""

from __future__ import annotations

import pytest

from .conftest import echo_app


@pytest.mark.parametrize(
    "path",
    [
        "/api/families/metrics",
        "/api/families/readyz",
        "/api/families/healthz",
        "/api/families/%6Detrics",  # the service decodes it to /metrics
        "/api/families/metrics?format=text",
    ],
)
async def test_a_service_operational_address_is_not_public(gateway, upstream, path) -> None:
    families = await upstream(echo_app())
    client = await gateway({"families": families.url})

    response = await client.get(path)

    assert response.status == 404
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert families.seen == []


async def test_the_openapi_document_and_the_api_stay_reachable(gateway, upstream) -> None:
    families = await upstream(echo_app())
    client = await gateway({"families": families.url})
    for path in ("/api/families/openapi.json", "/api/families/families/metrics"):
        response = await client.get(path)
        assert response.status == 200, path
    assert [seen["path"] for seen in families.seen] == ["/openapi.json", "/families/metrics"]
