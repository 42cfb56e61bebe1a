"""Registrations through the real gateway, with the real families and documents services.

No stand-in here: the gateway routes `/api/<service>/…`, bookings asks families for the
person and documents for completeness through that same gateway, each on its PostgreSQL.
"""

from __future__ import annotations

import json
import socket
import uuid
from typing import Any

from aiohttp.test_utils import TestClient

from gateway.app import create_app as create_gateway
from gateway.config import SERVICE_NAMES, GatewaySettings
from services.kit.testing import TestSigner
from tests import support

from .factories import GROUPS, SPRING, UNITS, unique


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _url(client: TestClient) -> str:
    return str(client.make_url("")).rstrip("/")


async def test_a_parent_registers_a_child_through_the_gateway_with_real_checks(
    aiohttp_server: Any,
    aiohttp_client: Any,
    service_client: Any,
    bookings_app: Any,
    signer: TestSigner,
    s3_endpoint: str,
) -> None:
    port = _free_port()
    gateway_url = f"http://127.0.0.1:{port}"
    families = await service_client("families")
    documents = await service_client(
        "documents",
        s3_endpoint_url=s3_endpoint,
        s3_bucket=f"bookings-{uuid.uuid4().hex[:8]}",
        gateway_url=gateway_url,
    )
    bookings = await bookings_app(gateway_url=gateway_url)
    urls = {name: f"http://127.0.0.1:{_free_port()}" for name in SERVICE_NAMES}
    urls.update(families=_url(families), documents=_url(documents), bookings=_url(bookings))
    settings = GatewaySettings(
        profile="test",
        redis_url=support.redis_url(),
        redis_key_prefix=f"bktest:{uuid.uuid4().hex[:8]}",
        jwks_json=json.dumps(signer.jwks),
        public_base_url=gateway_url,
        secret_key="a-test-secret-of-enough-length",
        **{f"{name}_service_url": url for name, url in urls.items()},
    )
    server = await aiohttp_server(create_gateway(settings), host="127.0.0.1", port=port)
    gateway = await aiohttp_client(server)
    staff = signer.headers(role="staff", subject="agent-1")

    # The household, its child (6 at the holidays) and another household's child.
    family = await (
        await gateway.post("/api/families/families", json={"name": "TEST"}, headers=staff)
    ).json()
    other = await (
        await gateway.post("/api/families/families", json={"name": "AUTRE"}, headers=staff)
    ).json()
    child = await gateway.post(
        f"/api/families/families/{family['id']}/persons",
        json={
            "role": "child",
            "first_name": "Enfant",
            "last_name": "TEST",
            "birth_date": "2020-09-01",
        },
        headers=staff,
    )
    assert child.status == 201, await child.text()
    child_id = (await child.json())["id"]
    stranger = await (
        await gateway.post(
            f"/api/families/families/{other['id']}/persons",
            json={
                "role": "child",
                "first_name": "Autre",
                "last_name": "ENFANT",
                "birth_date": "2020-09-01",
            },
            headers=staff,
        )
    ).json()

    activity = await (
        await gateway.post(
            "/api/bookings/activities",
            json={"name": unique("ALSH Josta Leku"), "groups": GROUPS, "units": UNITS},
            headers=staff,
        )
    ).json()
    period = await (
        await gateway.post(
            f"/api/bookings/activities/{activity['id']}/periods",
            json={"name": "Vacances de printemps 2027", **SPRING},
            headers=staff,
        )
    ).json()
    document_type = await gateway.post(
        "/api/documents/document-types",
        json={
            "name": "Photocopie des vaccinations",
            "concerns": "child",
            "mandatory": True,
            "activity_ids": [activity["id"]],
        },
        headers=staff,
    )
    assert document_type.status == 201, await document_type.text()

    as_parent = signer.headers(families=[family["id"]], subject="parent-test")
    path = f"/api/bookings/families/{family['id']}/registrations"
    body = {"person_id": child_id, "activity_id": activity["id"], "period_id": period["id"]}

    missing = await gateway.post(path, json=body, headers=as_parent)
    assert missing.status == 422, await missing.text()
    assert "Photocopie des vaccinations" in (await missing.json())["detail"]

    foreign = await gateway.post(
        path, json={**body, "person_id": stranger["id"]}, headers=as_parent
    )
    assert foreign.status == 404
    assert "ne fait pas partie de votre famille" in (await foreign.json())["detail"]

    # The structure stops requiring the document for this activity: the request goes through.
    type_id = (await document_type.json())["id"]
    relaxed = await gateway.patch(
        f"/api/documents/document-types/{type_id}", json={"mandatory": False}, headers=staff
    )
    assert relaxed.status == 200, await relaxed.text()
    created = await gateway.post(path, json=body, headers=as_parent)
    assert created.status == 201, await created.text()
    registration = await created.json()
    assert registration["group_name"] == "primaire"

    accepted = await gateway.post(
        f"/api/bookings/registrations/{registration['id']}/accept", headers=staff
    )
    assert accepted.status == 200, await accepted.text()
    mine = await (await gateway.get(path, headers=as_parent)).json()
    assert [r["state_label"] for r in mine["items"]] == ["acceptée"]
