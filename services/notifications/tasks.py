"""The notifications consumer: Celery tasks, run by `portail worker` (see portail/worker.py).

Celery cannot run `async def` tasks, and `asyncio.run` per task would build and tear down
a loop, an engine and a connection pool for every event. Each worker process therefore
keeps ONE `ConsumerRuntime` (loop, database, Redis), made on first use in that process and
closed when the process stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Coroutine
from datetime import timedelta
from typing import Any, TypeVar

import structlog
from celery import shared_task, signals
from celery.schedules import crontab
from redis.asyncio import Redis
from sqlalchemy.sql import Executable

from services.kit.database import Database
from services.kit.event_loop import new_event_loop
from services.kit.outbox import AckStore
from services.kit.queue import EVENT_TASK, EVENTS_TASK, create_celery
from services.kit.settings import load_settings, load_settings_or_exit

from . import digest, service
from .config import NotificationsSettings
from .models import OutgoingEmail
from .sending import SEND_TASK, Record, SendOutcome, enqueue_email, send_committed, send_email
from .smtp import SmtpSender

log = structlog.get_logger(__name__)
T = TypeVar("T")
PURGE_TASK = "notifications.purge_processed_events"
DIGEST_TASK = "notifications.staff_digest"

# Read by portail/worker.py: beat's entries for this service's own database.
BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "notifications-purge-processed-events": {
        "task": PURGE_TASK,
        "schedule": crontab(hour=3, minute=17),
    },
    "notifications-staff-digest": {
        "task": DIGEST_TASK,
        "schedule": crontab(hour=7, minute=30),
    },
}


class ConsumerRuntime:
    """One event loop, database engine and Redis client for every task of a worker process."""

    def __init__(self, settings: NotificationsSettings) -> None:
        self.settings = settings
        self.loop = new_event_loop()
        # A prefork child runs one task at a time: a small pool is enough. No ping before
        # each transaction (a round trip per e-mail): a connection found dead (database
        # restarted) fails one task, whose work comes back (the producer re-publishes
        # an unacknowledged event, the relay re-enqueues a pending e-mail), and the pool
        # replaces its connections.
        self.database = Database(
            settings.database_url, pool_size=settings.event_lanes + 1, pre_ping=False
        )
        self.redis = Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=1)
        self.acks = AckStore(self.redis)
        # One SMTP connection per lane, reused from e-mail to e-mail; lane 0's also sends
        # the `email.send` tasks.
        self.lanes = [SmtpSender(settings) for _ in range(settings.event_lanes)]
        self.smtp = self.lanes[0]
        # Its own producer on the same broker: the send tasks of the e-mails an event owes.
        self.celery = create_celery(settings.redis_url)
        # The loop is not thread-safe: should a threaded pool be used, tasks take turns.
        self._lock = threading.Lock()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` to completion on this process's loop."""
        with self._lock:
            return self.loop.run_until_complete(coroutine)

    def close(self) -> None:
        """Close connections, then the loop."""
        try:
            for sender in self.lanes:
                self.run(sender.close())
            self.run(self.database.dispose())
            self.run(self.redis.aclose())
            self.celery.close()
        finally:
            self.loop.close()

    async def send(self, email_id: str) -> SendOutcome:
        """Lock, send and record one e-mail in one transaction (see sending.py for the cases)."""
        async with self.database.transaction() as session:
            outcome = await send_email(session, self.settings, self.smtp, email_id)
        log.info("email_send", email_id=email_id, outcome=outcome.value)
        return outcome

    @contextlib.asynccontextmanager
    async def recorder(self) -> AsyncIterator[Record]:
        """Statements each durable on its own, for the lane's marks after each send: on
        PostgreSQL one connection in autocommit (one round trip a statement); on SQLite, which
        takes its write lock at BEGIN, a short transaction each."""
        engine = self.database.engine
        if engine.dialect.name == "sqlite":

            async def in_transaction(statement: Executable, parameters: dict[str, Any]) -> object:
                async with engine.begin() as connection:
                    return await connection.execute(statement, parameters)

            yield in_transaction
            return
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            yield connection.execute

    def enqueue_emails(self, email_ids: tuple[str, ...] | list[str]) -> None:
        """Put a send task on the `email` queue for each id; a failure is left to the relay."""
        try:
            for email_id in email_ids:
                enqueue_email(self.celery, email_id)
        except Exception as exc:
            # Committed rows are not lost: the relay re-enqueues pending ones after a delay.
            log.warning("email_enqueue_failed", error=type(exc).__name__, detail=str(exc)[:200])


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


@signals.celeryd_init.connect  # type: ignore[untyped-decorator]
def _check_settings_at_worker_start(**_: Any) -> None:
    # Celery logs and swallows a receiver's exceptions (here and at each child's start):
    # without this, a worker missing SMTP_HOST in prod started and failed every e-mail task.
    load_settings_or_exit(NotificationsSettings)


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


@shared_task(name=EVENTS_TASK, acks_late=True, reject_on_worker_lost=True)  # type: ignore[untyped-decorator]
def deliver_many(messages: Any) -> dict[str, int]:
    """Handle a batch of events from one relay pass (each family's in order); exactly one
    effect per event id."""
    current = runtime()
    return current.run(deliver_many_async(current, messages))


@shared_task(name=EVENT_TASK, acks_late=True, reject_on_worker_lost=True)  # type: ignore[untyped-decorator]
def deliver(message: Any) -> str:
    """Handle one event (as published before batches); exactly one effect per event id."""
    current = runtime()
    return current.run(deliver_async(current, message))


async def deliver_many_async(current: ConsumerRuntime, messages: Any) -> dict[str, int]:
    """Each lane's share of the batch in one transaction, its e-mails sent after the commit,
    then one acknowledgement for the events handled.

    The batch is shared among the process's lanes, which run at once: while one waits for
    PostgreSQL or the SMTP server, another works. A family's events (or an account's) all go
    to one lane, in their order. An event that fails (database unreachable, a conflict) is
    logged and left unacknowledged: its producer's relay publishes it again, and the batch's
    other events go on. A batch that is not a list is one malformed message, a dead letter
    like any other.
    """
    batch = messages if isinstance(messages, list) else [messages]
    shares: dict[int, list[Any]] = {}
    for message in batch:
        shares.setdefault(lane_of(message, len(current.lanes)), []).append(message)
    handled: list[str] = []
    outcomes: Counter[str] = Counter()
    await asyncio.gather(
        *(
            _run_lane(current, current.lanes[lane], share, handled, outcomes)
            for lane, share in shares.items()
        )
    )
    # After the commits, never before: an acknowledged event must be a handled one.
    await current.acks.confirm_many(handled)
    return dict(outcomes)


def lane_of(message: Any, lanes: int) -> int:
    """The lane of an event: by its family, else its account, else its own id."""
    if not isinstance(message, dict):
        return 0
    data = message.get("data")
    key = message.get("family_id") or (data.get("account_id") if isinstance(data, dict) else None)
    key = key or message.get("id")
    return zlib.crc32(str(key).encode()) % lanes


async def _run_lane(
    current: ConsumerRuntime,
    smtp: SmtpSender,
    share: list[Any],
    handled: list[str],
    outcomes: Counter[str],
) -> None:
    # The e-mails' lease starts before their rows are written: measured from here, it ends
    # no later than the relay's own reckoning from `enqueued_at`.
    leased_at = asyncio.get_running_loop().time()
    deliveries = await commit_share(current, share)
    for delivery in deliveries:
        if delivery is None:
            outcomes["failed"] += 1
            continue
        outcomes[delivery.outcome.value] += 1
        if delivery.ack_id is not None:
            handled.append(delivery.ack_id)
    rows = [row for delivery in deliveries if delivery is not None for row in delivery.emails]
    await send_owed(current, smtp, rows, leased_at=leased_at)


async def deliver_async(current: ConsumerRuntime, message: Any) -> str:
    """Handle one event, send what it owes, then acknowledge it to its producer."""
    leased_at = asyncio.get_running_loop().time()
    (delivery,) = await _commit(current, [message])
    await send_owed(current, current.smtp, list(delivery.emails), leased_at=leased_at)
    if delivery.ack_id is not None:
        await current.acks.confirm(delivery.ack_id)
    return delivery.outcome.value


async def commit_share(current: ConsumerRuntime, share: list[Any]) -> list[service.Delivery | None]:
    """Handle a lane's share in one transaction; should it fail, each event in its own.

    One transaction for the share costs one BEGIN, one claim, one read of the addresses,
    one INSERT per table and one COMMIT, instead of all of them for each event. If anything
    in it fails (an event a constraint refuses, a conflict with another process), nothing of
    it was committed, and the events are handled again one by one, so that one bad event
    does not hold back the others. None: that event failed (left unacknowledged).
    """
    try:
        return list(await _commit(current, share))
    except Exception as exc:
        if len(share) == 1:
            log.warning("event_failed", error=type(exc).__name__, detail=str(exc)[:200])
            return [None]
        log.warning("batch_failed", error=type(exc).__name__, detail=str(exc)[:200])
    deliveries: list[service.Delivery | None] = []
    for message in share:
        try:
            deliveries += await _commit(current, [message])
        except Exception as exc:
            log.warning("event_failed", error=type(exc).__name__, detail=str(exc)[:200])
            deliveries.append(None)
    return deliveries


async def _commit(current: ConsumerRuntime, messages: list[Any]) -> list[service.Delivery]:
    """Handle `messages` in one transaction and commit: their claims, journal lines, address
    book and e-mail rows (pending, `enqueued_at` now: the lease of the sender to come)."""
    async with current.database.transaction() as session:
        deliveries = await service.handle_events(session, raws=messages, settings=current.settings)
    for message, delivery in zip(messages, deliveries, strict=True):
        request_id = message.get("request_id") if isinstance(message, dict) else None
        log.info(
            "event_delivered",
            event_id=delivery.ack_id,
            outcome=delivery.outcome.value,
            request_id=request_id,
        )
    return deliveries


async def send_owed(
    current: ConsumerRuntime, smtp: SmtpSender, rows: list[OutgoingEmail], *, leased_at: float
) -> None:
    """Send committed e-mails over the lane's connection, each recorded as soon as it is sent.

    Their rows are leased to this lane from `leased_at` for `email_requeue_after_seconds`:
    the relay does not enqueue them before. A send starts only in the first half of the
    lease and is given up at three quarters of it, so that no row is ever sent by the lane
    and by a send task; those left go with the relay when the lease ends. While the server
    was lately unreachable, the rows are enqueued instead: a send may wait a whole SMTP
    timeout, and the next batches must not.
    """
    if not rows:
        return
    lease = current.settings.email_requeue_after_seconds
    start_before, deadline = leased_at + lease / 2, leased_at + lease * 3 / 4
    loop = asyncio.get_running_loop()
    index = 0
    try:
        async with current.recorder() as record:
            for index, row in enumerate(rows):
                if smtp.recently_unreachable:
                    current.enqueue_emails([left.id for left in rows[index:]])
                    return
                if loop.time() >= start_before:
                    log.warning("emails_left_to_the_relay", count=len(rows) - index)
                    return
                await send_committed(record, current.settings, smtp, row, deadline=deadline)
    except Exception as exc:
        # The database lost (a mark not written): the rows still pending go with the relay
        # once their lease ends; the events are handled, their acknowledgement still due.
        log.warning(
            "emails_left_to_the_relay",
            count=len(rows) - index,
            error=type(exc).__name__,
            detail=str(exc)[:200],
        )


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


@shared_task(name=SEND_TASK, acks_late=True, reject_on_worker_lost=True)  # type: ignore[untyped-decorator]
def send(email_id: str) -> str:
    """Send one owed e-mail, once: its row is locked while SMTP takes it."""
    current = runtime()
    return current.run(current.send(email_id)).value


@shared_task(name=DIGEST_TASK)  # type: ignore[untyped-decorator]
def staff_digest() -> int:
    """The morning digest of pending requests to staff (from beat); returns e-mails owed."""
    current = runtime()

    async def owe() -> list[str]:
        async with current.database.transaction() as session:
            return await digest.owe_digest(session, current.settings)

    email_ids = current.run(owe())
    current.enqueue_emails(email_ids)
    return len(email_ids)
