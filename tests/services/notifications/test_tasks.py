"""The Celery task around the consumer: one loop per process, acknowledgement after commit."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import asyncpg
import pytest
import redis
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import DBAPIError

from services.kit.outbox import ACK_KEY
from services.notifications import tasks

from ... import support
from .factories import event, invited
from .smtp_server import SmtpServer


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


def email_rows(url: str, event_id: str) -> list[asyncpg.Record]:
    """The e-mail rows an event owes."""
    return asyncio.run(_fetch(url, "SELECT * FROM outgoing_emails WHERE source_id = $1", event_id))


async def _fetch(url: str, query: str, *args: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return list(await connection.fetch(query, *args))
    finally:
        await connection.close()


def queued_sends() -> list[bytes]:
    """The `email.send` tasks waiting on the `email` queue (kombu's Redis list)."""
    client = redis.Redis.from_url(support.redis_url())
    try:
        return list(client.lrange("email", 0, -1))
    finally:
        client.close()


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


def test_a_batch_is_handled_event_by_event_and_acknowledged_once_handled(
    consumer_env: str, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch, empty_email_queue: None
) -> None:
    monkeypatch.setenv("SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("NOTIFICATIONS_EVENT_LANES", "3")
    tasks._close_runtime()
    seen = event()
    assert tasks.deliver.run(seen) == "handled"
    invitations = [invited(str(uuid.uuid4()), f"parent-{n}@example.org") for n in range(6)]
    batch = [*invitations, "garbage", seen, event()]

    outcomes = tasks.deliver_many.run(batch)

    assert outcomes == {"handled": 7, "dead_letter": 1, "duplicate": 1}
    acks = redis.Redis.from_url(support.redis_url())
    handled = [m["id"] for m in batch if isinstance(m, dict)]
    assert [acks.get(ACK_KEY.format(i)) for i in handled] == [b"1"] * 8
    acks.close()
    assert sorted(str(m["To"]) for m in smtp.inbox.messages) == sorted(
        f"parent-{n}@example.org" for n in range(6)
    )
    assert [journal_lines(consumer_env, m["id"]) for m in (seen, batch[-1])] == [1, 1]
    assert len(tasks.runtime().lanes) == 3


def test_a_familys_events_share_one_lane_and_keep_their_order() -> None:
    family = str(uuid.uuid4())
    same_family = [event(family_id=family) for _ in range(20)]
    others = [event() for _ in range(200)]

    assert {tasks.lane_of(m, 4) for m in same_family} == {tasks.lane_of(same_family[0], 4)}
    assert {tasks.lane_of(m, 4) for m in others} == {0, 1, 2, 3}, "the lanes share the work"
    assert tasks.lane_of("garbage", 4) == 0


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


@pytest.fixture
def empty_email_queue() -> Iterator[None]:
    """No `email.send` task left over from another test in this Redis database."""
    client = redis.Redis.from_url(support.redis_url())
    client.delete("email")
    yield
    client.delete("email")
    client.close()


def test_the_consumer_sends_what_an_event_owes_at_once_over_its_connection(
    consumer_env: str, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch, empty_email_queue: None
) -> None:
    monkeypatch.setenv("SMTP_PORT", str(smtp.port))
    tasks._close_runtime()
    first, second = (
        invited(str(uuid.uuid4()), "a@example.org"),
        invited(str(uuid.uuid4()), "b@example.org"),
    )

    assert tasks.deliver.run(first) == "handled"
    connection = tasks.runtime().smtp._client
    assert tasks.deliver.run(second) == "handled"

    assert sorted(str(m["To"]) for m in smtp.inbox.messages) == ["a@example.org", "b@example.org"]
    (row,) = email_rows(consumer_env, first["id"])
    assert (row["state"], row["attempts"]) == ("sent", 1)
    assert queued_sends() == [], "no send task went through the broker"
    assert connection is not None and tasks.runtime().smtp._client is connection, "reused"
    assert tasks.deliver.run(first) == "duplicate" and len(smtp.inbox.messages) == 2


def test_while_the_server_is_unreachable_events_go_on_and_emails_wait_on_the_queue(
    consumer_env: str, monkeypatch: pytest.MonkeyPatch, empty_email_queue: None
) -> None:
    server = SmtpServer()  # not started: connections refused
    monkeypatch.setenv("SMTP_PORT", str(server.port))
    monkeypatch.setenv("NOTIFICATIONS_EMAIL_RETRY_BASE_SECONDS", "0.01")
    monkeypatch.setenv("NOTIFICATIONS_EMAIL_RETRY_MAX_SECONDS", "0.02")
    tasks._close_runtime()
    first, second = (
        invited(str(uuid.uuid4()), "a@example.org"),
        invited(str(uuid.uuid4()), "b@example.org"),
    )

    assert tasks.deliver.run(first) == "handled"
    (tried,) = email_rows(consumer_env, first["id"])
    assert tasks.deliver.run(second) == "handled"
    (queued,) = email_rows(consumer_env, second["id"])
    assert (tried["state"], tried["attempts"], tried["enqueued_at"]) == ("pending", 1, None)
    assert "unreachable" in tried["last_error"]
    assert (queued["state"], queued["attempts"]) == ("pending", 0), "not tried: the server was down"
    assert [queued["id"] in m.decode() for m in queued_sends()] == [True]

    server.start()  # back: the queued send task and the relay's retry both get through
    try:
        assert tasks.send.run(queued["id"]) == "sent"
        assert tasks.send.run(tried["id"]) == "sent"
        assert len(server.inbox.messages) == 2
    finally:
        server.stop()


def test_a_dead_database_connection_fails_one_task_and_the_next_gets_a_new_one(
    consumer_env: str,
) -> None:
    # The worker does not ping before each transaction: the price is this one failed task.
    assert tasks.deliver.run(event()) == "handled"
    asyncio.run(
        _fetch(
            consumer_env,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
    )
    message = event()

    with pytest.raises(DBAPIError):
        tasks.deliver.run(message)
    # Its event comes again (no acknowledgement: the producer re-publishes it).
    assert tasks.deliver.run(message) == "handled"
    assert journal_lines(consumer_env, message["id"]) == 1
