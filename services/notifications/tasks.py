"""The notifications consumer: Celery tasks, run by `portail worker` (see portail/worker.py).

Celery cannot run `async def` tasks, and `asyncio.run` per task would build and tear down
a loop, an engine and a connection pool for every event. Each worker process therefore
keeps ONE `ConsumerRuntime` (loop, database, Redis), made on first use in that process and
closed when the process stops.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any, TypeVar

import structlog
from celery import shared_task, signals
from celery.schedules import crontab
from redis.asyncio import Redis

from services.kit.database import Database
from services.kit.outbox import AckStore
from services.kit.queue import EVENT_TASK
from services.kit.settings import load_settings

from . import service
from .config import NotificationsSettings

log = structlog.get_logger(__name__)
T = TypeVar("T")
PURGE_TASK = "notifications.purge_processed_events"

# Read by portail/worker.py: beat's entries for this service's own database.
BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "notifications-purge-processed-events": {
        "task": PURGE_TASK,
        "schedule": crontab(hour=3, minute=17),
    },
}


class ConsumerRuntime:
    """One event loop, database engine and Redis client for every task of a worker process."""

    def __init__(self, settings: NotificationsSettings) -> None:
        self.settings = settings
        self.loop = asyncio.new_event_loop()
        # A prefork child runs one task at a time: a small pool is enough.
        self.database = Database(settings.database_url, pool_size=2)
        self.redis = Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=1)
        self.acks = AckStore(self.redis)
        # The loop is not thread-safe: should a threaded pool be used, tasks take turns.
        self._lock = threading.Lock()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` to completion on this process's loop."""
        with self._lock:
            return self.loop.run_until_complete(coroutine)

    def close(self) -> None:
        """Close connections, then the loop."""
        try:
            self.run(self.database.dispose())
            self.run(self.redis.aclose())
        finally:
            self.loop.close()


class _Holder:
    """The runtime of the current process; a forked child never reuses its parent's."""

    runtime: ConsumerRuntime | None = None
    pid: int = 0


def runtime() -> ConsumerRuntime:
    """This process's runtime, made on first use."""
    if _Holder.runtime is None or _Holder.pid != os.getpid():
        _Holder.runtime = ConsumerRuntime(load_settings(NotificationsSettings))
        _Holder.pid = os.getpid()
    return _Holder.runtime


@signals.worker_process_init.connect  # type: ignore[untyped-decorator]
def _open_runtime(**_: Any) -> None:
    # Fail at the child's start, not at its first task, when the settings are wrong.
    runtime()


@signals.worker_process_shutdown.connect  # type: ignore[untyped-decorator]
@signals.worker_shutdown.connect  # type: ignore[untyped-decorator]
def _close_runtime(**_: Any) -> None:
    if _Holder.runtime is not None and _Holder.pid == os.getpid():
        _Holder.runtime.close()
        _Holder.runtime = None


@shared_task(name=EVENT_TASK, acks_late=True, reject_on_worker_lost=True)  # type: ignore[untyped-decorator]
def deliver(message: Any) -> str:
    """Handle one event from any service's outbox; exactly one effect per event id."""
    current = runtime()
    return current.run(deliver_async(current, message))


async def deliver_async(current: ConsumerRuntime, message: Any) -> str:
    """Handle the message in one transaction, commit, then acknowledge to the producer.

    An exception (database or Redis unreachable) fails the task: the producer's relay
    publishes the event again since no acknowledgement came, and the claim makes the
    second delivery a no-op if the first had committed.
    """
    async with current.database.transaction() as session:
        delivery = await service.handle_event(session, raw=message)
    # After the commit, never before: an acknowledged event must be a handled one.
    if delivery.ack_id is not None:
        await current.acks.confirm(delivery.ack_id)
    log.info("event_delivered", event_id=delivery.ack_id, outcome=delivery.outcome.value)
    return delivery.outcome.value


@shared_task(name=PURGE_TASK)  # type: ignore[untyped-decorator]
def purge_processed_events() -> int:
    """Forget handled event ids past their retention (nightly, from beat)."""
    current = runtime()
    retention = timedelta(days=current.settings.processed_events_retention_days)

    async def purge() -> int:
        async with current.database.transaction() as session:
            return await service.purge_processed_events(session, older_than=retention)

    removed = current.run(purge())
    log.info("processed_events_purged", removed=removed)
    return removed
