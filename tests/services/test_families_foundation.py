"""The families service's first table and endpoints, end to end on PostgreSQL."""

from __future__ import annotations

from services.kit.testing import TestSigner


async def test_staff_creates_a_family_and_its_parent_reads_it(
    service_client, signer: TestSigner
) -> None:
    client = await service_client("families")
    created = await client.post(
        "/families", json={"name": "TEST"}, headers=signer.headers(role="staff")
    )
    assert created.status == 201, await created.text()
    family = await created.json()
    assert family["name"] == "TEST"

    read = await client.get(
        f"/families/{family['id']}", headers=signer.headers(families=[family["id"]])
    )
    assert read.status == 200
    assert (await read.json())["id"] == family["id"]


async def test_another_family_id_answers_like_a_missing_one(
    service_client, signer: TestSigner
) -> None:
    client = await service_client("families")
    created = await client.post(
        "/families", json={"name": "AUTRE"}, headers=signer.headers(role="staff")
    )
    family_id = (await created.json())["id"]
    foreign = await client.get(f"/families/{family_id}", headers=signer.headers(families=["mine"]))
    missing = await client.get("/families/does-not-exist", headers=signer.headers(role="staff"))
    assert foreign.status == missing.status == 404
    assert foreign.headers["Content-Type"].startswith("application/problem+json")


async def test_a_parent_cannot_create_families(service_client, signer: TestSigner) -> None:
    client = await service_client("families")
    response = await client.post(
        "/families", json={"name": "X"}, headers=signer.headers(families=["f"])
    )
    assert response.status == 403
    body = await response.json()
    assert body["type"].endswith("/forbidden")


async def test_malformed_json_gets_a_precise_problem(service_client, signer: TestSigner) -> None:
    client = await service_client("families")
    response = await client.post(
        "/families",
        data=b"{not json",
        headers={**signer.headers(role="staff"), "Content-Type": "application/json"},
    )
    assert response.status == 400
    assert "not valid JSON" in (await response.json())["detail"]


async def test_unknown_fields_are_refused_per_field(service_client, signer: TestSigner) -> None:
    client = await service_client("families")
    response = await client.post(
        "/families", json={"name": "A", "quotient": 1}, headers=signer.headers(role="staff")
    )
    assert response.status == 422
    assert (await response.json())["errors"][0]["field"] == "quotient"
