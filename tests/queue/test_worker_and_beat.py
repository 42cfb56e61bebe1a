"""`portail worker` and `portail beat` as real processes, and the queues they share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from celery import Celery

from portail.worker import HEARTBEAT_KEY, WorkerSettings, create_worker_app
from services.kit.queue import QUEUES, publish_event

from .. import support
from .processes import ProcessSet, RedisServer, python, wait_until


@pytest.fixture
def worker_app(redis_index: redis.Redis) -> Iterator[Celery]:
    """The worker's app on this run's Redis index, with its queues declared as a worker does."""
    app = create_worker_app(WorkerSettings(REDIS_URL=support.redis_url(), profile="test"))
    with app.connection_for_write() as connection:
        for queue in app.amqp.queues.values():
            queue(connection.default_channel).declare()
    yield app
    app.close()


def lengths(client: redis.Redis) -> dict[str, int]:
    """Messages waiting per queue."""
    return {name: int(client.llen(name)) for name in QUEUES}


def test_each_message_lands_in_its_own_queue_only(
    worker_app: Celery, redis_index: redis.Redis
) -> None:
    publish_event(worker_app, {"id": "e1", "type": "family.created"})
    worker_app.send_task("email.send", args=[{}])
    # Published by exchange: with every queue bound to one default key, this was copied 3 times.
    worker_app.send_task("events.deliver", args=[{}], exchange="events", routing_key="events")

    assert lengths(redis_index) == {"events": 2, "email": 1, "billing": 0}


def test_the_worker_app_knows_every_service_task_and_the_beat_schedule(worker_app: Celery) -> None:
    assert {"events.deliver", "portail.heartbeat", "notifications.purge_processed_events"} <= set(
        worker_app.tasks
    )
    assert {"portail-heartbeat", "notifications-purge-processed-events"} <= set(
        worker_app.conf.beat_schedule
    )


@pytest.mark.timeout(90)
def test_beat_and_a_worker_run_the_heartbeat_end_to_end(
    processes: ProcessSet, tmp_path: Path
) -> None:
    broker = RedisServer(processes)
    broker.start()
    env = {
        "PORTAIL_PROFILE": "test",
        "REDIS_URL": broker.url,
        "NOTIFICATIONS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'notifications.sqlite'}",
        "WORKER_HEARTBEAT_SECONDS": "1",
        "WORKER_BEAT_SCHEDULE_FILE": str(tmp_path / "beat" / "schedule"),
    }
    processes.start("beat", python("-m", "portail.cli", "beat"), env)
    processes.start("worker", python("-m", "portail.cli", "worker", "-c", "1"), env)
    client = redis.Redis.from_url(broker.url)
    try:
        wait_until(
            lambda: client.get(HEARTBEAT_KEY) is not None,
            timeout=45,
            what=f"heartbeat written\n{processes.log('beat')}\n{processes.log('worker')}",
        )
        assert 0 < int(client.ttl(HEARTBEAT_KEY)) <= 5
    finally:
        client.close()
    assert (tmp_path / "beat").is_dir()
