"""Fixtures of the queue tests: databases of their own, real Redis, real processes."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import delete

from portail.registry import service
from services.families.models import OutboxMessage
from services.kit.database import Database
from services.kit.migrations import upgrade
from services.kit.queue import EVENTS_TASK

from .. import support
from .processes import ProcessSet


async def create_migrated_database(label: str, service_name: str) -> str:
    """A fresh database named after `label` with `service_name`'s schema; returns its URL."""
    name = support.database_name(label)
    await support.create_database(name)
    url = support.async_url(name)
    await asyncio.to_thread(upgrade, service(service_name).migrations_dir, url)
    return url


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[ProcessSet]:
    """Processes started by the test, all killed at the end whatever happens."""
    started = ProcessSet(tmp_path)
    try:
        yield started
    finally:
        started.close()


@pytest.fixture(scope="session")
def queue_families_url() -> Iterator[str]:
    """A families database for the relay tests (not shared with other test folders)."""
    url = asyncio.run(create_migrated_database("q_families", "families"))
    yield url
    asyncio.run(support.drop_database(support.database_name("q_families")))


@pytest.fixture
async def families_db(queue_families_url: str) -> AsyncIterator[Database]:
    """The relay tests' families database, its outbox emptied before each test (a Database
    like any writer's: on PostgreSQL its event commits also send NOTIFY)."""
    database = Database(queue_families_url, pool_size=2)
    async with database.transaction() as session:
        await session.execute(delete(OutboxMessage))
    yield database
    await database.dispose()


@pytest.fixture
def redis_index() -> Iterator[redis.Redis]:
    """This run's Redis index (TEST_REDIS_DB), emptied before and after the test."""
    client = redis.Redis.from_url(support.redis_url())
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def queued_events(client: redis.Redis, queue: str = "events") -> list[dict[str, object]]:
    """The event messages waiting in a Celery queue on Redis, oldest first, whether each
    task carries one event (`events.deliver`) or a batch (`events.deliver_many`)."""
    messages: list[dict[str, object]] = []
    for raw in reversed(client.lrange(queue, 0, -1)):
        envelope = json.loads(raw)
        args, _kwargs, _embed = json.loads(base64.b64decode(envelope["body"]))
        if envelope["headers"]["task"] == EVENTS_TASK:
            messages.extend(args[0])
        else:
            messages.append(args[0])
    return messages


@pytest.fixture
async def cleanup_tasks() -> AsyncIterator[list[asyncio.Task[None]]]:
    """Background tasks a test starts, cancelled at its end."""
    tasks: list[asyncio.Task[None]] = []
    yield tasks
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
