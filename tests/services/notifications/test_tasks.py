"""The Celery task around the consumer: one loop per process, acknowledgement after commit."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import asyncpg
import pytest
import redis
from redis.exceptions import ConnectionError as RedisConnectionError

from services.kit.outbox import ACK_KEY
from services.notifications import tasks

from ... import support
from .factories import event


@pytest.fixture
def consumer_env(
    service_databases: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """Environment of a worker process on this run's database and Redis; returns the DB URL."""
    if "notifications" not in service_databases:
        service_databases["notifications"] = asyncio.run(
            support.prepare_service_database("notifications")
        )
    url = service_databases["notifications"]
    monkeypatch.setenv("PORTAIL_PROFILE", "test")
    monkeypatch.setenv("NOTIFICATIONS_DATABASE_URL", url)
    monkeypatch.setenv("REDIS_URL", support.redis_url())
    tasks._close_runtime()
    yield url
    tasks._close_runtime()


def journal_lines(url: str, event_id: str) -> int:
    """Journal lines written from one event."""
    return asyncio.run(_count(url, event_id))


async def _count(url: str, event_id: str) -> int:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return int(
            await connection.fetchval(
                "SELECT count(*) FROM journal_entries WHERE event_id = $1", event_id
            )
        )
    finally:
        await connection.close()


def test_the_task_handles_acknowledges_and_keeps_its_loop(consumer_env: str) -> None:
    message = event()
    acks = redis.Redis.from_url(support.redis_url())

    assert tasks.deliver.run(message) == "handled"
    loop = tasks.runtime().loop
    assert tasks.deliver.run(message) == "duplicate"

    assert tasks.runtime().loop is loop, "one event loop per worker process"
    assert acks.get(ACK_KEY.format(message["id"])) == b"1"
    assert journal_lines(consumer_env, message["id"]) == 1
    assert tasks.deliver.run("garbage") == "dead_letter"
    acks.close()


def test_without_redis_the_effect_commits_and_the_next_delivery_acknowledges(
    consumer_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = event()
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    tasks._close_runtime()

    with pytest.raises(RedisConnectionError):
        tasks.deliver.run(message)
    assert journal_lines(consumer_env, message["id"]) == 1

    # The producer re-publishes (no acknowledgement came); Redis is back by then.
    monkeypatch.setenv("REDIS_URL", support.redis_url())
    tasks._close_runtime()
    assert tasks.deliver.run(message) == "duplicate"
    acks = redis.Redis.from_url(support.redis_url())
    assert acks.get(ACK_KEY.format(message["id"])) == b"1"
    acks.close()
    assert journal_lines(consumer_env, message["id"]) == 1
