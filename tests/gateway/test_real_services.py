"""The gateway in front of the real families service (its real database on PostgreSQL)."""

from __future__ import annotations

import re

from .conftest import same_origin
from .fakes import PASSWORD, FakeAuth


async def test_a_municipal_system_creates_and_reads_a_family_through_the_gateway(
    gateway, service_client, signer
) -> None:
    families = await service_client("families")
    client = await gateway({"families": str(families.make_url("")).rstrip("/")})
    staff = signer.headers(role="staff")
    created = await client.post("/api/families/families", json={"name": "TEST"}, headers=staff)
    assert created.status == 201, await created.text()
    family = await created.json()
    assert created.headers["X-Content-Type-Options"] == "nosniff"

    mine = await client.get(
        f"/api/families/families/{family['id']}", headers=signer.headers(families=[family["id"]])
    )
    assert mine.status == 200
    assert (await mine.json())["name"] == "TEST"

    foreign = await client.get(
        f"/api/families/families/{family['id']}", headers=signer.headers(families=["autre"])
    )
    assert foreign.status == 404
    assert foreign.content_type == "application/problem+json"

    malformed = await client.post(
        "/api/families/families",
        data=b"{not json",
        headers={**staff, "Content-Type": "application/json"},
    )
    assert malformed.status == 400
    assert "JSON" in (await malformed.json())["detail"]


async def test_the_family_tile_is_filled_by_the_real_families_service(
    gateway, service_client, signer, upstream
) -> None:
    families = await service_client("families")
    created = await families.post(
        "/families", json={"name": "TEST"}, headers=signer.headers(role="staff")
    )
    family_id = (await created.json())["id"]
    fake = FakeAuth(signer, accounts={"test@example.org": [family_id]})
    auth = await upstream(fake.app())
    client = await gateway(
        {"auth": auth.url, "families": str(families.make_url("")).rstrip("/")},
        dashboard_deadline_seconds=2.0,
    )
    await client.post(
        "/connexion",
        data={"email": "test@example.org", "password": PASSWORD},
        headers=same_origin(client),
    )
    html = await (await client.get("/")).text()
    match = re.search(r'data-tile="famille">(.*?)</li>', html, re.S)
    assert match
    text = " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())
    assert re.fullmatch(r"Ma famille \d+ Personnes? Afficher ma famille", text), text
