"""Fixtures of the auth tests: the real auth app on PostgreSQL and Redis, and account helpers."""

from __future__ import annotations

import asyncio
import uuid
import weakref
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from services.auth.models import OutboxMessage
from services.families.models import Family
from services.kit.keys import DATABASE
from services.kit.outbox import utcnow
from services.kit.testing import TestSigner
from tests import support
from tests.gateway.conftest import gateway  # noqa: F401 - the page tests drive the real gateway

KEK = support.AUTH_TEST_KEY_ENCRYPTION_KEY
PUBLIC_BASE_URL = "https://portail.example.org"
GOOD_PASSWORD = "correct horse battery staple"
# Generous limits by default: every test comes from 127.0.0.1; the throttle tests set their own.
DEFAULTS: dict[str, Any] = {
    "key_encryption_key": KEK,
    "public_base_url": PUBLIC_BASE_URL,
    "ip_attempts_limit": 100_000,
    "account_failures_limit": 100,
}


# The families service each auth app asks (through a gateway) whether a family exists.
FAMILIES_OF: weakref.WeakKeyDictionary[TestClient, TestClient] = weakref.WeakKeyDictionary()


def url_of(client: TestClient) -> str:
    """The address a test server listens on, without a trailing slash."""
    return str(client.make_url("")).rstrip("/")


@pytest.fixture
async def auth_client(service_client, gateway):  # type: ignore[no-untyped-def]  # noqa: F811
    """A factory of auth apps; settings override the test defaults.

    Auth invites only to families the families service knows, asked through the gateway:
    unless a test gives its own `gateway_url`, the apps of a test share a real families
    service behind a real gateway (routing only families), started with the first app.
    """
    behind: list[TestClient] = []

    async def make(**settings: Any) -> TestClient:
        if "gateway_url" not in settings:
            if not behind:
                families = await service_client("families")
                # Every app of the test shares one loop with Argon2 hashing: on a loaded
                # machine the families check took over the fixture's 5 s deadline (a 504,
                # which auth rightly turns into « familles indisponible »).
                front = await gateway(
                    {"families": url_of(families)},
                    upstream_deadline_seconds=10.0,
                    upstream_connect_timeout_seconds=10.0,
                )
                behind.extend((families, front))
            settings["gateway_url"] = url_of(behind[1])
        client = await service_client("auth", **{**DEFAULTS, **settings})
        if behind and settings["gateway_url"] == url_of(behind[1]):
            FAMILIES_OF[client] = behind[0]
        return client

    await _clear_throttles()
    return make


async def ensure_family(client: TestClient, family_id: str | None = None) -> str:
    """A family the families service behind `client` knows: `family_id`, made if missing.

    Written in the families service's own database, so that tests may name their families
    ("household-a") and find them again; `new_family` goes through its API instead.
    """
    if client not in FAMILIES_OF:
        # An auth app of the test's own making, in front of families it made the family in.
        assert family_id is not None, "name the family that this app's families service knows"
        return family_id
    family_id = family_id or str(uuid.uuid4())
    now = utcnow()
    async with FAMILIES_OF[client].app[DATABASE].transaction() as session:
        await session.execute(
            insert(Family)
            .values(
                id=family_id,
                name="FAMILLE DE TEST AUTH",
                status="active",
                created_at=now,
                updated_at=now,
                version=1,
            )
            .on_conflict_do_nothing(index_elements=[Family.id])
        )
    return family_id


async def _clear_throttles() -> None:
    client = aioredis.Redis.from_url(support.redis_url())
    try:
        keys = [k async for k in client.scan_iter("auth:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


def unique_email(prefix: str = "parent") -> str:
    """An address no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.org"


def staff_headers(signer: TestSigner, *roles: str, subject: str = "staff-test") -> dict[str, str]:
    """A staff token from the test signer (trusted by every service in tests)."""
    return signer.headers(role="staff", subject=subject, staff_roles=list(roles or ("agent",)))


async def events(client: TestClient, event_type: str, **data: Any) -> list[dict[str, Any]]:
    """Outbox messages of a type whose data contains `data`, oldest first."""
    async with client.app[DATABASE].sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.event_type == event_type)
            .order_by(OutboxMessage.occurred_at)
        )
        messages = [r.message for r in rows]
    return [m for m in messages if all(m["data"].get(k) == v for k, v in data.items())]


async def wait_for_event(
    client: TestClient, event_type: str, within: float = 5.0, **data: Any
) -> dict[str, Any]:
    """The newest matching event, waiting for background work to write it."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        found = await events(client, event_type, **data)
        if found:
            return found[-1]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no {event_type} event with {data}")
        await asyncio.sleep(0.05)


def token_of(link: str) -> str:
    """The token in a link of an e-mail."""
    return parse_qs(urlparse(link).query)["token"][0]


async def invite(
    client: TestClient,
    signer: TestSigner,
    *,
    email: str | None = None,
    family_id: str | None = None,
    rights: list[str] | None = None,
) -> tuple[dict[str, Any], str]:
    """Invite a family account as staff; returns the account and the link from the event."""
    body: dict[str, Any] = {
        "email": email or unique_email(),
        "family_id": await ensure_family(client, family_id),
    }
    if rights is not None:
        body["rights"] = rights
    response = await client.post("/invitations", json=body, headers=staff_headers(signer))
    assert response.status in (200, 201), await response.text()
    account = (await response.json())["account"]
    event = await wait_for_event(client, "account.invited", account_id=account["id"])
    return account, event["data"]["link"]


async def active_family(
    client: TestClient,
    signer: TestSigner,
    *,
    email: str | None = None,
    family_id: str | None = None,
    password: str = GOOD_PASSWORD,
) -> dict[str, Any]:
    """An invited then activated family account: its account, email, password and session."""
    email = email or unique_email()
    account, link = await invite(client, signer, email=email, family_id=family_id)
    accepted = await client.post(
        "/invitations/accept", json={"token": token_of(link), "password": password}
    )
    assert accepted.status == 201, await accepted.text()
    body = await accepted.json()
    return {"account": account, "email": email, "password": password, **body["session"]}


async def sign_in(client: TestClient, email: str, password: str, **extra: Any) -> Any:
    """POST /sessions."""
    return await client.post("/sessions", json={"email": email, "password": password, **extra})
