"""The outbox relay against real PostgreSQL and Redis: publish, confirm, re-publish, survive."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
from celery import Celery
from redis.asyncio import Redis
from sqlalchemy import select

from services.families.app import create_app as create_families_app
from services.families.config import FamiliesSettings
from services.families.models import OutboxMessage
from services.kit.database import Database
from services.kit.outbox import AckStore, OutboxRelay, record_event, utcnow
from services.kit.queue import create_celery, publish_events
from services.kit.relay_process import run_relay
from services.kit.testing import TestSigner

from .. import support
from .conftest import queued_events
from .processes import ProcessSet, RedisServer, eventually


@pytest.fixture
def celery_app() -> Iterator[Celery]:
    """A real producer on this run's Redis index."""
    app = create_celery(support.redis_url())
    yield app
    app.close()


@pytest.fixture
async def acks() -> AsyncIterator[AckStore]:
    """The acknowledgement store on this run's Redis index."""
    client = Redis.from_url(support.redis_url())
    yield AckStore(client)
    await client.aclose()


def relay_for(
    database: Database, app: Celery, acks: AckStore, *, republish_after: float = 30.0
) -> OutboxRelay:
    """The relay as services run it, publishing through `app`."""
    return OutboxRelay(
        database,
        OutboxMessage,
        lambda messages: publish_events(app, messages),
        acks,
        interval=0.05,
        republish_after=republish_after,
    )


async def create_families(database: Database, count: int) -> list[str]:
    """Commit `count` `family.created` events as the families service does; returns their ids."""
    async with database.transaction() as session:
        messages = [
            record_event(
                session,
                OutboxMessage,
                source="families",
                event_type="family.created",
                data={"family_id": str(n), "name": f"RELAY {n}"},
                family_id=str(n),
            )
            for n in range(count)
        ]
    return [str(message["id"]) for message in messages]


async def outbox(database: Database) -> dict[str, OutboxMessage]:
    """Every outbox row by event id."""
    async with database.sessions() as session:
        rows = (await session.scalars(select(OutboxMessage))).all()
    return {row.id: row for row in rows}


def queued_ids(client: redis.Redis) -> list[str]:
    """Ids of the events waiting in the `events` queue."""
    return [str(message["id"]) for message in queued_events(client)]


async def test_pending_events_are_published_once(
    families_db: Database, celery_app: Celery, acks: AckStore, redis_index: redis.Redis
) -> None:
    ids = await create_families(families_db, 3)
    relay = relay_for(families_db, celery_app, acks)

    await relay.relay_once()
    await relay.relay_once()

    assert sorted(queued_ids(redis_index)) == sorted(ids)
    rows = await outbox(families_db)
    assert {row.publish_count for row in rows.values()} == {1}
    assert all(row.published_at is not None and row.confirmed_at is None for row in rows.values())
    message = queued_events(redis_index)[0]
    assert message["type"] == "family.created" and message["source"] == "families"


async def test_acknowledged_events_are_confirmed_and_others_wait(
    families_db: Database, celery_app: Celery, acks: AckStore, redis_index: redis.Redis
) -> None:
    handled, pending = await create_families(families_db, 2)
    relay = relay_for(families_db, celery_app, acks)
    await relay.relay_once()

    await acks.confirm(handled)
    await relay.relay_once()

    rows = await outbox(families_db)
    assert rows[handled].confirmed_at is not None
    assert rows[pending].confirmed_at is None


async def test_unacknowledged_events_are_published_again_after_a_growing_delay(
    families_db: Database, celery_app: Celery, acks: AckStore, redis_index: redis.Redis
) -> None:
    (event_id,) = await create_families(families_db, 1)
    # Seconds, with margins of most of a delay: on a loaded machine a pass can be late.
    delay = 2.0
    relay = relay_for(families_db, celery_app, acks, republish_after=delay)

    await relay.relay_once()
    await relay.relay_once()
    assert queued_ids(redis_index) == [event_id], "not again before the delay"

    await asyncio.sleep(delay * 1.1)
    await relay.relay_once()
    assert queued_ids(redis_index) == [event_id] * 2
    assert (await outbox(families_db))[event_id].publish_count == 2

    await asyncio.sleep(delay * 1.1)
    await relay.relay_once()
    assert queued_ids(redis_index) == [event_id] * 2, "the second wait is twice as long"
    await asyncio.sleep(delay * 1.0)
    await relay.relay_once()
    assert queued_ids(redis_index) == [event_id] * 3

    # Acknowledged at last: confirmed, so out of the relay's sight for good.
    await acks.confirm(event_id)
    await relay.relay_once()
    assert (await outbox(families_db))[event_id].confirmed_at is not None


async def test_with_the_broker_down_decisions_commit_and_events_leave_when_it_returns(
    aiohttp_client: Any,
    queue_families_url: str,
    families_db: Database,
    processes: ProcessSet,
    signer: TestSigner,
) -> None:
    broker = RedisServer(processes)  # not started yet: the broker is down
    settings = FamiliesSettings(
        database_url=queue_families_url,
        redis_url=broker.url,
        jwks_json=json.dumps(signer.jwks),
        profile="test",
        OUTBOX_RELAY_INTERVAL=0.1,
        OUTBOX_REPUBLISH_AFTER=30,
    )
    client = await aiohttp_client(create_families_app(settings))
    staff = signer.headers(role="staff")

    statuses = [
        (await client.post("/families", json={"name": f"PANNE {n}"}, headers=staff)).status
        for n in range(5)
    ]
    assert statuses == [201] * 5
    await asyncio.sleep(1.0)  # the relay has tried, and failed, several times
    rows = await outbox(families_db)
    assert len(rows) == 5
    assert all(row.published_at is None for row in rows.values())

    broker.start()
    queue = redis.Redis.from_url(broker.url)
    try:

        async def all_queued() -> bool:
            return len(queued_ids(queue)) >= 5

        await eventually(
            all_queued,
            within=15,
            what="the 5 events reach the broker once it is back",
        )
        assert sorted(queued_ids(queue)) == sorted(rows)
        ack_client = Redis.from_url(broker.url)
        try:
            for event_id in rows:
                await AckStore(ack_client).confirm(event_id)
        finally:
            await ack_client.aclose()

        async def all_confirmed() -> bool:
            return all(r.confirmed_at is not None for r in (await outbox(families_db)).values())

        await eventually(all_confirmed, within=10, what="every row confirmed")
    finally:
        queue.close()


async def test_confirmed_rows_are_purged_after_their_retention_and_pending_ones_never(
    families_db: Database, celery_app: Celery, acks: AckStore, redis_index: redis.Redis
) -> None:
    old_confirmed, recent_confirmed, old_pending = await create_families(families_db, 3)
    long_ago = utcnow() - timedelta(days=40)
    async with families_db.transaction() as session:
        rows = {r.id: r for r in (await session.scalars(select(OutboxMessage))).all()}
        rows[old_confirmed].confirmed_at = long_ago
        rows[recent_confirmed].confirmed_at = utcnow()
        rows[old_pending].published_at = long_ago
        rows[old_pending].publish_count = 1
    relay = OutboxRelay(
        families_db,
        OutboxMessage,
        lambda messages: publish_events(celery_app, messages),
        acks,
        interval=0.05,
        republish_after=30,
        keep_confirmed_for=30 * 86400,
    )

    assert await relay.purge_confirmed() == 1
    assert set(await outbox(families_db)) == {recent_confirmed, old_pending}


async def test_a_service_without_its_relay_leaves_its_events_to_the_relay_process(
    aiohttp_client: Any, queue_families_url: str, families_db: Database, signer: TestSigner
) -> None:
    # OUTBOX_RELAY_IN_PROCESS=false: the service only serves; `portail outbox-relay
    # families` (run_relay) publishes what it committed.
    settings = FamiliesSettings(
        database_url=queue_families_url,
        redis_url=support.redis_url(),
        jwks_json=json.dumps(signer.jwks),
        profile="test",
        OUTBOX_RELAY_INTERVAL=0.1,
        OUTBOX_RELAY_IN_PROCESS=False,
    )
    client = await aiohttp_client(create_families_app(settings))
    staff = signer.headers(role="staff")
    for n in range(3):
        response = await client.post("/families", json={"name": f"RELAIS {n}"}, headers=staff)
        assert response.status == 201
    await asyncio.sleep(0.5)
    rows = await outbox(families_db)
    assert len(rows) == 3
    assert all(row.published_at is None for row in rows.values())  # nobody relayed them

    relay = asyncio.create_task(run_relay(settings, OutboxMessage))
    queue = redis.Redis.from_url(support.redis_url())
    try:

        async def all_published() -> bool:
            return all(r.published_at is not None for r in (await outbox(families_db)).values())

        await eventually(all_published, within=10, what="the relay process publishes the 3")
        assert set(rows) <= set(queued_ids(queue))
    finally:
        relay.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relay
        queue.close()
