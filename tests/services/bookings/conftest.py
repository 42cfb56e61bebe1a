"""Fixtures of the bookings tests: the real app on PostgreSQL with a frozen clock, and a
stand-in for the two contracts bookings asks of the gateway (families' persons, documents'
completeness).

The stand-in is NOT the families or documents service: it speaks their agreed contracts on
a random port, records what it was sent, and can be told to fail, so that every branch of
the checks is driven over real HTTP.
"""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from services.bookings.app import create_app
from services.kit.testing import TestSigner
from tests import support

from .factories import unique
from .portal import Portal, start_portal

# A Tuesday of the spring holidays' registration window in the tests' calendar.
DEFAULT_NOW = datetime(2027, 3, 30, 8, 0, tzinfo=UTC)


class FrozenClock:
    """A clock that tells the time it is given; tests move it instead of sleeping."""

    def __init__(self, now: datetime = DEFAULT_NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class ContractStandIn:
    """Answers `/api/families/.../persons/...` and `/api/documents/.../completeness`."""

    persons: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    missing: dict[tuple[str, str, str], list[dict[str, str]]] = field(default_factory=dict)
    documents_status: int = 200
    authorizations: list[str] = field(default_factory=list)
    completeness_calls: int = 0
    url: str = ""

    def add_person(
        self,
        family_id: str,
        person_id: str,
        *,
        birth_date: str | None,
        first_name: str = "Enfant",
        last_name: str = "TEST",
    ) -> None:
        """Make `person_id` a member of `family_id`."""
        self.persons[(family_id, person_id)] = {
            "id": person_id,
            "family_id": family_id,
            "first_name": first_name,
            "last_name": last_name,
            "birth_date": birth_date,
            "role": "child",
        }

    def app(self) -> web.Application:
        """The stand-in's aiohttp application."""
        app = web.Application()
        app.router.add_get("/api/families/families/{family_id}/persons/{person_id}", self._person)
        app.router.add_get("/api/documents/families/{family_id}/completeness", self._completeness)
        return app

    async def _person(self, request: web.Request) -> web.Response:
        self.authorizations.append(request.headers.get("Authorization", ""))
        key = (request.match_info["family_id"], request.match_info["person_id"])
        if key not in self.persons:
            return web.json_response({"status": 404, "detail": "No such person."}, status=404)
        return web.json_response(self.persons[key])

    async def _completeness(self, request: web.Request) -> web.Response:
        self.completeness_calls += 1
        self.authorizations.append(request.headers.get("Authorization", ""))
        if self.documents_status != 200:
            return web.json_response({"detail": "down"}, status=self.documents_status)
        key = (
            request.match_info["family_id"],
            request.query.get("person_id", ""),
            request.query.get("activity_id", ""),
        )
        missing = self.missing.get(key, [])
        return web.json_response({"complete": not missing, "missing": missing})


@pytest.fixture
def clock() -> FrozenClock:
    """The bookings app's clock, frozen at DEFAULT_NOW."""
    return FrozenClock()


@pytest.fixture
async def stand_in() -> Any:
    """The contract stand-in, serving on a random free port."""
    contracts = ContractStandIn()
    server = TestServer(contracts.app())
    await server.start_server()
    contracts.url = str(server.make_url("")).rstrip("/")
    yield contracts
    await server.close()


def closed_port_url() -> str:
    """The URL of a local port nobody listens on (a service that is down)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


BookingsFactory = Callable[..., Awaitable[TestClient]]


@pytest.fixture
async def bookings_app(
    aiohttp_client: Any,
    service_databases: dict[str, str],
    signer: TestSigner,
    clock: FrozenClock,
    stand_in: ContractStandIn,
) -> BookingsFactory:
    """Build the real bookings app on this run's PostgreSQL database, frozen clock, stand-in."""

    async def make(**settings: Any) -> TestClient:
        if "bookings" not in service_databases:
            service_databases["bookings"] = await support.prepare_service_database("bookings")
        settings.setdefault("gateway_url", stand_in.url)
        database_url = settings.pop("database_url", service_databases["bookings"])
        config = support.service_settings("bookings", database_url, signer.jwks, **settings)
        return await aiohttp_client(create_app(config, clock=clock))  # type: ignore[arg-type]

    return make


@pytest.fixture
async def bookings(bookings_app: BookingsFactory) -> TestClient:
    """The bookings app with the default test settings."""
    return await bookings_app()


@pytest.fixture(params=["postgresql", "sqlite"])
async def client(request: Any, bookings_app: BookingsFactory, tmp_path: Path) -> TestClient:
    """The bookings app on this run's PostgreSQL, or on an embedded SQLite file (each test
    taking it runs on both)."""
    if request.param == "postgresql":
        return await bookings_app()
    return await bookings_app(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'b.sqlite'}", run_migrations_at_start=True
    )


@pytest.fixture
async def portal(
    aiohttp_server: Any,
    aiohttp_client: Any,
    service_client: Any,
    bookings_app: Any,
    signer: TestSigner,
    s3_endpoint: str,
) -> Portal:
    """The whole portal (real gateway, bookings, families, documents) with the ALSH."""
    return await start_portal(
        aiohttp_server=aiohttp_server,
        aiohttp_client=aiohttp_client,
        service_client=service_client,
        bookings_app=bookings_app,
        signer=signer,
        s3_endpoint=s3_endpoint,
        activity_name=unique("ALSH Josta Leku"),
    )


@pytest.fixture(autouse=True)
async def _leave_no_pending_events(service_databases: dict[str, str]) -> Any:
    """After each test, mark this service's outbox rows as delivered.

    The database lives for the whole run and other test files start bookings apps on it
    (the shape tests, one with Redis unreachable): rows left pending would be theirs to relay.
    Our tests read the outbox rows themselves; none tests the relay.
    """
    yield
    url = service_databases.get("bookings")
    if url is None:
        return
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await connection.execute(
            "UPDATE outbox_messages SET confirmed_at = now() WHERE confirmed_at IS NULL"
        )
    finally:
        await connection.close()
