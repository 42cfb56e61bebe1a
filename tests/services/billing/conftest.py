"""Fixtures of the billing tests: the real billing app on PostgreSQL, moto's S3 over HTTP,
the real gateway and families service, and a stand-in for bookings' billable lines.

`BillableLinesStandIn` is NOT the bookings service: that service's `GET /billable-lines`
was not written when these tests were; the stand-in speaks exactly the contract billing
consumes (see services/billing/upstream.py) and checks the caller's token like a service.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import boto3
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import text

from services.billing.storage import STORAGE
from services.kit.identity import TokenVerifier
from services.kit.keys import DATABASE, SETTINGS
from services.kit.testing import TestSigner
from tests.gateway.conftest import gateway, upstream  # noqa: F401 (the gateway's fixtures)
from tests.gateway.fakes import FakeAuth

TABLES = (
    "payment_allocations, payments, payment_attempts, invoice_lines, invoices, invoiced_months, "
    "invoicing_runs, number_counters, tariff_brackets, tariffs, activity_rules, outbox_messages"
)
ALSH = "00000000-0000-4000-8000-0000000ac001"
CANTINE = "00000000-0000-4000-8000-0000000ac003"

Client = TestClient[web.Request, web.Application]


@dataclass
class BillableLinesStandIn:
    """The lines `GET /api/bookings/billable-lines?month=` answers, and who asked."""

    items: list[dict[str, Any]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)

    def add(
        self,
        family_id: str,
        person_id: str,
        person_name: str,
        day: date,
        *,
        state: str = "reserved",
        activity_id: str = ALSH,
        activity_name: str = "ALSH Josta Leku",
        unit: str = "journée",
    ) -> None:
        """Add one booked unit."""
        self.items.append(
            {
                "family_id": family_id,
                "person_id": person_id,
                "person_name": person_name,
                "activity_id": activity_id,
                "activity_name": activity_name,
                "unit": unit,
                "date": day.isoformat(),
                "state": state,
            }
        )

    def app(self, signer: TestSigner) -> web.Application:
        """The stand-in as an aiohttp app (mounted behind the real gateway as `bookings`)."""
        verifier = TokenVerifier(
            issuer=signer.issuer, audience=signer.audience, jwks_json=json.dumps(signer.jwks)
        )

        async def lines(request: web.Request) -> web.Response:
            token = request.headers.get("Authorization", "").removeprefix("Bearer ")
            identity = await verifier.verify(token)
            if identity.role not in ("staff", "service"):
                return web.json_response({"detail": "staff only"}, status=403)
            month = request.query["month"]
            self.calls.append(month)
            return web.json_response(
                {"items": [i for i in self.items if i["date"].startswith(month)]}
            )

        app = web.Application()
        app.router.add_get("/billable-lines", lines)
        return app


class FakeAuthWithStaff(FakeAuth):
    """The auth contract of the gateway tests, with a staff account (agent@example.org)."""

    def token(self, email: str) -> str:
        if email == "agent@example.org":
            return self.signer.token(subject=email, role="staff", ttl=self.expires_in)
        return super().token(email)


@dataclass
class Portal:
    """Billing behind the real gateway, with real families and the bookings stand-in."""

    billing: Client
    families: Client
    lines: BillableLinesStandIn
    gateway_url: str
    signer: TestSigner
    s3_endpoint: str
    auth: FakeAuthWithStaff
    gateway: Client

    @property
    def staff(self) -> dict[str, str]:
        return self.signer.headers(role="staff", subject="agent@example.org")

    def parent(self, family_id: str) -> dict[str, str]:
        return self.signer.headers(subject=f"parent-{family_id[:8]}", families=[family_id])

    async def family(
        self, name: str, *, quotient: int | None, postal_code: str = "64240", email: str = ""
    ) -> str:
        """Create a family in the real families service (with its QF); returns its id."""
        body = {"name": name, "postal_code": postal_code}
        if email:
            body["email"] = email
        response = await self.families.post("/families", json=body, headers=self.staff)
        assert response.status == 201, await response.text()
        family = await response.json()
        if quotient is not None:
            response = await self.families.put(
                f"/families/{family['id']}/quotient",
                json={
                    "quotient": quotient,
                    "quotient_date": "2026-01-15",
                    "quotient_source": "CAF",
                    "version": family["version"],
                },
                headers=self.staff,
            )
            assert response.status == 200, await response.text()
        return str(family["id"])

    async def tariff(self, **body: Any) -> dict[str, Any]:
        """Create a tariff through the API."""
        values = {
            "activity_id": ALSH,
            "activity_name": "ALSH Josta Leku",
            "unit": "journée",
            "resident": True,
            "valid_from": "2026-01-01",
            **body,
        }
        response = await self.billing.post("/tariffs", json=values, headers=self.staff)
        assert response.status == 201, await response.text()
        return dict(await response.json())

    async def preview(self, month: str) -> dict[str, Any]:
        response = await self.billing.post("/runs", json={"month": month}, headers=self.staff)
        assert response.status == 201, await response.text()
        return dict(await response.json())

    async def publish(self, run_id: str) -> dict[str, Any]:
        response = await self.billing.post(f"/runs/{run_id}/publish", headers=self.staff)
        assert response.status == 200, await response.text()
        return dict(await response.json())

    async def invoices(self, family_id: str, state: str = "all") -> dict[str, Any]:
        response = await self.billing.get(
            f"/families/{family_id}/invoices",
            params={"state": state},
            headers=self.parent(family_id),
        )
        assert response.status == 200, await response.text()
        return dict(await response.json())

    async def sql(self, statement: str, **params: Any) -> list[Any]:
        async with self.billing.app[DATABASE].transaction() as session:
            result = await session.execute(text(statement), params)
            return list(result.all()) if result.returns_rows else []

    def bucket(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.s3_endpoint,
            aws_access_key_id="portail-dev",
            aws_secret_access_key="portail-dev-secret",
            region_name="eu-west-3",
        )

    @property
    def bucket_name(self) -> str:
        return self.billing.app[STORAGE].bucket


def point_at(client: Client, **values: Any) -> None:
    """Re-point a built app's frozen settings (the gateway's port exists only after billing's)."""
    settings = client.app[SETTINGS]
    for name, value in values.items():
        object.__setattr__(settings, name, value)


@pytest.fixture
async def portal(
    service_client: Callable[..., Awaitable[Client]],
    gateway: Callable[..., Awaitable[Client]],  # noqa: F811
    upstream: Callable[..., Awaitable[Any]],  # noqa: F811
    signer: TestSigner,
    s3_endpoint: str,
) -> Portal:
    """Empty billing tables, its own bucket, real families, the stand-in, the real gateway."""
    lines = BillableLinesStandIn()
    families = await service_client("families")
    billing = await service_client(
        "billing",
        s3_endpoint_url=s3_endpoint,
        s3_bucket=f"billing-{uuid.uuid4().hex[:12]}",
        payfip_mode="simulator",
        # Every service shares the test's event loop: a 1 s connect timer would measure its
        # lag under a loaded machine, not the network.
        http_connect_timeout_seconds=10.0,
    )
    async with billing.app[DATABASE].transaction() as session:
        await session.execute(text(f"TRUNCATE {TABLES} CASCADE"))
    bookings = await upstream(lines.app(signer))
    auth = FakeAuthWithStaff(signer, accounts={"agent@example.org": []})
    auth_server = await upstream(auth.app())
    gw = await gateway(
        {
            "auth": auth_server.url,
            "families": str(families.make_url("")).rstrip("/"),
            "bookings": bookings.url,
            "billing": str(billing.make_url("")).rstrip("/"),
        },
        upstream_deadline_seconds=10.0,
        upstream_connect_timeout_seconds=10.0,
    )
    gateway_url = str(gw.make_url("")).rstrip("/")
    point_at(billing, gateway_url=gateway_url, public_base_url=gateway_url)
    return Portal(billing, families, lines, gateway_url, signer, s3_endpoint, auth, gw)
