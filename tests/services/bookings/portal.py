"""A whole portal for page tests: the real gateway, bookings, families and documents services.

Only auth is a stand-in (the gateway's `FakeAuth` session contract, extended with a staff
account), because these tests are about registrations, not about signing in.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import text

from gateway.app import create_app as create_gateway
from gateway.config import SERVICE_NAMES, GatewaySettings
from services.kit.keys import DATABASE
from services.kit.testing import TestSigner
from tests import support
from tests.gateway.fakes import PASSWORD, FakeAuth
from tests.services.documents.conftest import TABLES as DOCUMENT_TABLES

from .factories import GROUPS, SPRING, UNITS

PARENT_EMAIL = "famille.test@example.org"
STAFF_EMAIL = "agent@example.org"
__all__ = ["PARENT_EMAIL", "PASSWORD", "STAFF_EMAIL", "Portal", "start_portal"]


class RoleAwareAuth(FakeAuth):
    """FakeAuth whose staff account gets a staff token."""

    def token(self, email: str) -> str:
        if email == STAFF_EMAIL:
            return self.signer.token(subject=email, role="staff", ttl=self.expires_in)
        return super().token(email)


def url_of(client: TestClient) -> str:
    return str(client.make_url("")).rstrip("/")


@dataclass
class Portal:
    """The running portal and the demo data made through it."""

    gateway: TestClient
    base_url: str
    family_id: str
    child_id: str
    activity: dict[str, Any]
    period: dict[str, Any]
    documents: TestClient
    bookings: TestClient | None = None


async def start_portal(
    *,
    aiohttp_server: Any,
    aiohttp_client: Any,
    service_client: Any,
    bookings_app: Any,
    signer: TestSigner,
    s3_endpoint: str,
    activity_name: str,
    caller_http_settings: dict[str, Any] | None = None,
    **gateway_settings: Any,
) -> Portal:
    """Start every process on random ports and create family TEST, Enfant TEST and the ALSH.

    `caller_http_settings` (e.g. HTTP_TIMEOUT_SECONDS) go to both services that call back
    through the gateway: bookings (person, documents) and documents (the family's members).
    A rush test gives both the same room, or the documents check would time out first.
    """
    caller_http_settings = caller_http_settings or {}
    # The gateway's address is known before the services that call it back start.
    held = support.HeldPort()
    port = held.port
    base_url = f"http://127.0.0.1:{port}"
    families = await service_client("families")
    documents = await service_client(
        "documents",
        s3_endpoint_url=s3_endpoint,
        s3_bucket=f"bookings-{uuid.uuid4().hex[:8]}",
        gateway_url=base_url,
        **caller_http_settings,
    )
    # The documents database is this run's, shared with the documents tests: a mandatory type
    # they left (the demo's « Photocopie des vaccinations ») would refuse every request here.
    async with documents.app[DATABASE].transaction() as session:
        await session.execute(text(f"TRUNCATE {DOCUMENT_TABLES} CASCADE"))
    bookings = await bookings_app(gateway_url=base_url, **caller_http_settings)
    staff = signer.headers(role="staff", subject="agent-1")
    family = await (await families.post("/families", json={"name": "TEST"}, headers=staff)).json()
    child = await families.post(
        f"/families/{family['id']}/persons",
        json={"role": "child", "first_name": "Enfant", "last_name": "TEST",
              "birth_date": "2019-05-12"},
        headers=staff,
    )  # fmt: skip
    assert child.status == 201, await child.text()
    activity = await (
        await bookings.post(
            "/activities",
            json={"name": activity_name, "groups": GROUPS, "units": UNITS},
            headers=staff,
        )
    ).json()
    period = await (
        await bookings.post(
            f"/activities/{activity['id']}/periods",
            json={"name": "Vacances de printemps 2027", **SPRING},
            headers=staff,
        )
    ).json()
    auth = RoleAwareAuth(signer, accounts={PARENT_EMAIL: [family["id"]], STAFF_EMAIL: []})
    auth_server = await aiohttp_server(auth.app(), host="127.0.0.1")
    urls = {name: f"http://127.0.0.1:{support.free_port()}" for name in SERVICE_NAMES}
    urls.update(
        auth=str(auth_server.make_url("")).rstrip("/"),
        families=url_of(families),
        documents=url_of(documents),
        bookings=url_of(bookings),
    )
    settings = GatewaySettings(
        profile="test",
        redis_url=support.redis_url(),
        redis_key_prefix=f"bkpages:{uuid.uuid4().hex[:8]}",
        jwks_json=json.dumps(signer.jwks),
        public_base_url=base_url,
        secret_key="a-test-secret-of-enough-length",
        **{f"{name}_service_url": url for name, url in urls.items()},
        # Four services share the test's one loop: on a loaded machine a write took over the
        # default 5 s. The tests of deadlines give their own.
        **{"upstream_deadline_seconds": 10.0, **gateway_settings},
    )
    server = await aiohttp_server(create_gateway(settings), host="127.0.0.1", port=held.release())
    gateway = await aiohttp_client(server)
    child_id = (await child.json())["id"]
    return Portal(gateway, base_url, family["id"], child_id, activity, period, documents, bookings)
