"""The relay in a process of its own, woken by PostgreSQL's NOTIFY: real PostgreSQL and Redis.

The relay process's safety poll is set to 30 s in these tests: an event that leaves within
a few seconds was carried by a notification, not by the poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import pytest
import redis
from aiohttp.test_utils import TestClient
from sqlalchemy import select, text

from services.families.app import create_app as create_families_app
from services.families.config import FamiliesSettings
from services.families.models import OutboxMessage
from services.kit.database import OUTBOX_CHANNEL, Database
from services.kit.outbox import record_event
from services.kit.outbox_listener import APPLICATION_NAME, asyncpg_connect_args
from services.kit.relay_process import run_relay
from services.kit.testing import TestSigner

from .. import support
from .conftest import queued_events
from .processes import eventually

SAFETY_POLL = 30.0  # seconds: far longer than any wait below
WELL_BEFORE_THE_POLL = 5.0


class Rollback(Exception):
    """Raised inside a transaction to roll it back."""


@pytest.fixture
async def admin(queue_families_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A plain connection to the families database, for LISTEN and pg_stat_activity."""
    connection = await asyncpg.connect(**asyncpg_connect_args(queue_families_url))
    yield connection
    await connection.close()


def settings_apart(url: str, signer: TestSigner) -> FamiliesSettings:
    """The families service with its relay in a process of its own, polling every 30 s."""
    return FamiliesSettings(
        database_url=url,
        redis_url=support.redis_url(),
        jwks_json=json.dumps(signer.jwks),
        profile="test",
        OUTBOX_RELAY_IN_PROCESS=False,
        OUTBOX_RELAY_INTERVAL=SAFETY_POLL,
    )


@pytest.fixture
async def relay_apart(
    queue_families_url: str, signer: TestSigner, redis_index: redis.Redis
) -> AsyncIterator[asyncio.Task[None]]:
    """`portail outbox-relay families`, as the shipped deployments run it."""
    task = asyncio.create_task(run_relay(settings_apart(queue_families_url, signer), OutboxMessage))
    yield task
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def listener_pids(admin: asyncpg.Connection) -> list[int]:
    """Backends of this database that LISTEN for the outbox's commits."""
    rows = await admin.fetch(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        " AND application_name = $1 AND query LIKE 'LISTEN%'",
        APPLICATION_NAME,
    )
    return [row["pid"] for row in rows]


async def wait_for_listener(admin: asyncpg.Connection, *, other_than: int = 0) -> int:
    """The pid of the relay's listening backend, once it is there."""

    async def listening() -> bool:
        return any(pid != other_than for pid in await listener_pids(admin))

    await eventually(listening, within=10, what="the relay process LISTENs")
    return next(pid for pid in await listener_pids(admin) if pid != other_than)


async def published(database: Database, event_id: str) -> bool:
    async with database.sessions() as session:
        row = await session.get(OutboxMessage, event_id, populate_existing=True)
    return row is not None and row.published_at is not None


async def create_family(client: TestClient, signer: TestSigner, name: str) -> str:
    """POST /families as staff; returns the id of the `family.created` event it committed."""
    staff = signer.headers(role="staff")
    response = await client.post("/families", json={"name": name}, headers=staff)
    assert response.status == 201
    return str((await response.json())["id"])


async def event_of(database: Database, family_id: str) -> str:
    async with database.sessions() as session:
        rows = (await session.scalars(select(OutboxMessage))).all()
    (event_id,) = [r.id for r in rows if r.message["data"].get("family_id") == family_id]
    return event_id


async def leaves_before_the_poll(database: Database, commit: Callable[[], Awaitable[str]]) -> None:
    event_id = await commit()

    async def out() -> bool:
        return await published(database, event_id)

    await eventually(out, within=WELL_BEFORE_THE_POLL, what="the event leaves, woken by NOTIFY")


async def roll_back_an_event(database: Database) -> None:
    with contextlib.suppress(Rollback):
        async with database.transaction() as session:
            record_event(
                session, OutboxMessage, source="families", event_type="family.created",
                data={"family_id": "rolled-back", "name": "ANNULÉE"},
            )  # fmt: skip
            await session.flush()
            raise Rollback


async def test_a_commit_that_wrote_an_event_notifies_and_others_do_not(
    queue_families_url: str, families_db: Database, admin: asyncpg.Connection
) -> None:
    heard: list[str] = []
    await admin.add_listener(OUTBOX_CHANNEL, lambda *notification: heard.append(notification[3]))
    in_process = Database(queue_families_url, pool_size=1, notify_outbox_commits=False)
    try:
        await roll_back_an_event(families_db)
        async with families_db.transaction() as session:
            await session.execute(text("SELECT 1"))  # a commit without an event
        async with in_process.transaction() as session:  # a service relaying in its process
            record_event(session, OutboxMessage, source="families", event_type="family.created",
                         data={"family_id": "in-process"})  # fmt: skip
        async with families_db.transaction() as session:
            for n in range(3):  # one transaction, one notification
                record_event(session, OutboxMessage, source="families",
                             event_type="family.created", data={"family_id": str(n)})  # fmt: skip

        async def heard_one() -> bool:
            return bool(heard)

        await eventually(heard_one, within=5, what="the commit's notification")
        # Notifications arrive in commit order: any from the commits before would be here.
        assert heard == [""]
    finally:
        await in_process.dispose()


async def test_a_service_that_relays_in_its_own_process_sends_no_notification(
    aiohttp_client: Any,
    queue_families_url: str,
    families_db: Database,
    admin: asyncpg.Connection,
    signer: TestSigner,
    redis_index: redis.Redis,
) -> None:
    heard: list[str] = []
    await admin.add_listener(OUTBOX_CHANNEL, lambda *notification: heard.append(notification[3]))
    settings = FamiliesSettings(
        database_url=queue_families_url,
        redis_url=support.redis_url(),
        jwks_json=json.dumps(signer.jwks),
        profile="test",
    )
    client = await aiohttp_client(create_families_app(settings))
    await create_family(client, signer, "SUR PLACE")  # its commit wakes its own relay only
    async with families_db.transaction() as session:  # then a writer that does notify
        record_event(session, OutboxMessage, source="families", event_type="family.created",
                     data={"family_id": "after"})  # fmt: skip

    async def heard_one() -> bool:
        return bool(heard)

    await eventually(heard_one, within=5, what="the second commit's notification")
    assert heard == [""]  # in commit order: the service's would have come first


async def test_an_event_leaves_at_once_through_the_relay_process_and_a_rollback_sends_none(
    aiohttp_client: Any,
    queue_families_url: str,
    families_db: Database,
    admin: asyncpg.Connection,
    signer: TestSigner,
    relay_apart: asyncio.Task[None],
    redis_index: redis.Redis,
) -> None:
    client = await aiohttp_client(create_families_app(settings_apart(queue_families_url, signer)))
    await wait_for_listener(admin)

    async def post(name: str) -> str:
        return await event_of(families_db, await create_family(client, signer, name))

    await leaves_before_the_poll(families_db, lambda: post("ÉCLAIR 1"))
    await roll_back_an_event(families_db)
    await leaves_before_the_poll(families_db, lambda: post("ÉCLAIR 2"))

    names = sorted(str(m["data"]["name"]) for m in queued_events(redis_index))  # type: ignore[index]
    assert names == ["ÉCLAIR 1", "ÉCLAIR 2"]
    async with families_db.sessions() as session:
        assert len((await session.scalars(select(OutboxMessage))).all()) == 2


async def test_the_relay_process_listens_again_when_its_connection_is_terminated(
    aiohttp_client: Any,
    queue_families_url: str,
    families_db: Database,
    admin: asyncpg.Connection,
    signer: TestSigner,
    relay_apart: asyncio.Task[None],
    redis_index: redis.Redis,
) -> None:
    client = await aiohttp_client(create_families_app(settings_apart(queue_families_url, signer)))
    first = await wait_for_listener(admin)

    assert await admin.fetchval("SELECT pg_terminate_backend($1)", first)
    await wait_for_listener(admin, other_than=first)

    async def post(name: str) -> str:
        return await event_of(families_db, await create_family(client, signer, name))

    await leaves_before_the_poll(families_db, lambda: post("REPRISE 1"))
    await leaves_before_the_poll(families_db, lambda: post("REPRISE 2"))
    assert not relay_apart.done()
    assert len(queued_events(redis_index)) == 2


def test_the_listener_connects_with_the_arguments_the_engine_would_use() -> None:
    url = "postgresql+asyncpg://u:p@db.example:5433/families?ssl=require&prepared_statement_cache_size=0"
    assert asyncpg_connect_args(url) == {
        "host": "db.example", "port": 5433, "database": "families", "user": "u", "password": "p",
        "ssl": "require",
    }  # fmt: skip
