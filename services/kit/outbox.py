"""Transactional outbox: events saved with the change, relayed to the queue until confirmed.

The producer writes an `outbox_messages` row in the transaction of the change. The relay
publishes it; the consumer, after handling it idempotently, writes an acknowledgement in
Redis; the relay then marks the row confirmed. A row published but never acknowledged
(Redis restarted empty, worker killed) is published again after `republish_after`, then
after twice that, four times… (capped): a backlog that takes longer to drain than the delay
must not be re-published in full at every pass, each copy lengthening the queue further.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from redis.asyncio import Redis
from sqlalchemy import JSON, ColumnElement, Integer, String, and_, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from .columns import UtcDateTime
from .context import current_request_id
from .database import OUTBOX_WRITTEN, Database

log = structlog.get_logger(__name__)
ACK_KEY = "outbox:ack:{}"
ACK_TTL_SECONDS = 7 * 24 * 3600
RELAY_BATCH = 200
PURGE_INTERVAL_SECONDS = 3600.0
# Re-publication delays: 1, 2, 4, 8, 16 × republish_after, then 16 × again and again.
MAX_BACKOFF_DOUBLINGS = 4


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


class OutboxMessageMixin:
    """Columns of a service's `outbox_messages` table."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(100))
    message: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    publish_count: Mapped[int] = mapped_column(Integer, default=0)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)


class ProcessedEventMixin:
    """Columns of a consumer's `processed_events` table: one row per event handled."""

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(100))
    processed_at: Mapped[datetime] = mapped_column(UtcDateTime())


def event_message(
    *, source: str, event_type: str, data: dict[str, Any], family_id: str | None = None
) -> dict[str, Any]:
    """A new event's message, as the outbox row keeps it and the queue carries it."""
    return {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "source": source,
        "occurred_at": utcnow().isoformat(),
        "family_id": family_id,
        "request_id": current_request_id.get(),
        "data": data,
    }


def add_event(
    session: AsyncSession, model: type[OutboxMessageMixin], message: dict[str, Any]
) -> None:
    """Add `message` (from `event_message`) to the outbox, in the caller's transaction."""
    session.add(
        model(  # type: ignore[call-arg]
            id=message["id"],
            event_type=message["type"],
            message=message,
            occurred_at=datetime.fromisoformat(message["occurred_at"]),
        )
    )
    events_written(session)


def events_written(session: AsyncSession) -> None:
    """Say that the caller's transaction wrote outbox rows (by `add_event`, or by a statement
    of its own), so that its commit wakes the relay."""
    session.info[OUTBOX_WRITTEN] = True


def record_event(
    session: AsyncSession,
    model: type[OutboxMessageMixin],
    *,
    source: str,
    event_type: str,
    data: dict[str, Any],
    family_id: str | None = None,
) -> dict[str, Any]:
    """Add an event to the outbox, in the caller's transaction. Returns the message."""
    message = event_message(source=source, event_type=event_type, data=data, family_id=family_id)
    add_event(session, model, message)
    return message


async def claim_event(
    session: AsyncSession, model: type[ProcessedEventMixin], message: dict[str, Any]
) -> bool:
    """Mark `message` handled in the caller's transaction; False when it already was.

    Concurrent deliveries of one event block on the primary key; the loser sees the
    winner's row once it commits and skips.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(model)
        .values(event_id=message["id"], event_type=message["type"], processed_at=utcnow())
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(model.event_id)
    )
    # On the session's connection: a Core statement, without the ORM's execution path.
    connection = await session.connection()
    return (await connection.execute(statement)).first() is not None


class AckStore:
    """Consumer acknowledgements, kept in Redis where every producer can read them."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def confirm(self, event_id: str) -> None:
        """Say that `event_id` was handled."""
        await self.redis.set(ACK_KEY.format(event_id), "1", ex=ACK_TTL_SECONDS)

    async def confirm_many(self, event_ids: Sequence[str]) -> None:
        """Say that each of `event_ids` was handled, in one round trip."""
        if not event_ids:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for event_id in event_ids:
                pipe.set(ACK_KEY.format(event_id), "1", ex=ACK_TTL_SECONDS)
            await pipe.execute()

    async def confirmed(self, event_ids: Sequence[str]) -> set[str]:
        """Those of `event_ids` that were acknowledged."""
        if not event_ids:
            return set()
        values = await self.redis.mget([ACK_KEY.format(i) for i in event_ids])
        return {i for i, v in zip(event_ids, values, strict=True) if v is not None}


# Publishes a pass's messages, in order (several per broker message: kit.queue.publish_events).
Publisher = Callable[[list[dict[str, Any]]], None]


class OutboxRelay:
    """Publishes pending outbox rows, confirms acknowledged ones, re-publishes stale ones."""

    def __init__(
        self,
        database: Database,
        model: type[OutboxMessageMixin],
        publish: Publisher,
        acks: AckStore,
        *,
        interval: float,
        republish_after: float,
        keep_confirmed_for: float | None = None,
        gather: float = 0.0,
    ) -> None:
        self.database = database
        self.model = model
        self.publish = publish
        self.acks = acks
        self.interval = interval
        self.republish_after = timedelta(seconds=republish_after)
        self.gather = gather
        # None keeps confirmed rows forever; unconfirmed rows are never purged.
        self.keep_confirmed_for = (
            timedelta(seconds=keep_confirmed_for) if keep_confirmed_for is not None else None
        )

    async def run_forever(self) -> None:
        """Relay until cancelled; a failing broker or database only delays delivery."""
        next_purge = asyncio.get_running_loop().time()
        while True:
            try:
                busy = await self.relay_once()
                if self.keep_confirmed_for is not None:
                    now = asyncio.get_running_loop().time()
                    if now >= next_purge:
                        next_purge = now + PURGE_INTERVAL_SECONDS
                        await self.purge_confirmed()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox_relay_failed", error=type(exc).__name__, detail=str(exc)[:200])
                busy = 0
            # A library below may swallow the CancelledError of a shutdown (seen in tests: the
            # app's cleanup then awaited this task forever); a pending cancel still stops it.
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise asyncio.CancelledError
            if busy < RELAY_BATCH:
                await self._wait_for_work()

    async def _wait_for_work(self) -> None:
        # Woken by a commit that wrote an event; the poll interval still catches rows that
        # another replica or a crashed process left, and re-publications that fall due.
        committed = self.database.outbox_committed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(committed.wait(), self.interval)
        if committed.is_set() and self.gather > 0:
            # The commits of the next moment join this pass: under load a pass per commit
            # (its statements, its Redis calls, its thread) took the CPU of the requests
            # served beside it, for a handful of events each.
            await asyncio.sleep(self.gather)
        committed.clear()

    async def purge_confirmed(self) -> int:
        """Delete rows confirmed longer ago than `keep_confirmed_for`; returns how many."""
        if self.keep_confirmed_for is None:
            return 0
        model = self.model
        cutoff = utcnow() - self.keep_confirmed_for
        async with self.database.transaction() as session:
            result = await session.execute(
                delete(model).where(model.confirmed_at.is_not(None), model.confirmed_at < cutoff)
            )
        removed = int(result.rowcount or 0)  # type: ignore[attr-defined]
        if removed:
            log.info("outbox_purged", removed=removed)
        return removed

    async def relay_once(self) -> int:
        """One pass; returns how many rows it handled.

        Core statements on the pass's connection, not ORM objects: a pass reads only the
        columns it uses (the ids alone of the rows waiting for an acknowledgement) and marks
        its rows with one UPDATE each way, instead of loading every row's message into the
        session and flushing one UPDATE per row — this runs in the service's process, after
        every commit that wrote an event, beside the requests it serves.
        """
        model = self.model
        now = utcnow()
        async with self.database.transaction() as session:
            connection = await session.connection()
            # SKIP LOCKED lets several replicas relay without publishing a row twice at once.
            rows = (
                await connection.execute(
                    select(model.id, model.message, model.published_at)
                    .where(model.confirmed_at.is_(None))
                    .where(self._due(now))
                    .order_by(model.occurred_at)
                    .limit(RELAY_BATCH)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            unacked = await self._confirm_acknowledged(connection, now)
            if not rows:
                return unacked
            already = await self.acks.confirmed([r.id for r in rows if r.published_at])
            to_publish = [r for r in rows if r.id not in already]
            if to_publish:
                await asyncio.to_thread(self.publish, [r.message for r in to_publish])
                await connection.execute(
                    update(model)
                    .where(model.id.in_([r.id for r in to_publish]))
                    .values(published_at=now, publish_count=model.publish_count + 1)
                    .execution_options(synchronize_session=False)
                )
            await self._mark_confirmed(connection, already, now)
            again = sum(r.published_at is not None for r in to_publish)
            if again:
                log.info("outbox_republished", count=again)
            return len(rows) + unacked

    async def _mark_confirmed(
        self, connection: AsyncConnection, event_ids: set[str], now: datetime
    ) -> None:
        if event_ids:
            model = self.model
            await connection.execute(
                update(model)
                .where(model.id.in_(sorted(event_ids)))
                .values(confirmed_at=now)
                .execution_options(synchronize_session=False)
            )

    def _due(self, now: datetime) -> ColumnElement[bool]:
        """Never published, or published `publish_count` times and unacknowledged for long enough.

        Spelled as one comparison per count so that it is plain SQL on every backend.
        """
        model = self.model
        waits = [
            and_(
                model.publish_count == count,
                model.published_at < now - self.republish_after * 2 ** (count - 1),
            )
            for count in range(1, MAX_BACKOFF_DOUBLINGS + 1)
        ]
        longest = self.republish_after * 2**MAX_BACKOFF_DOUBLINGS
        waits.append(
            and_(model.publish_count > MAX_BACKOFF_DOUBLINGS, model.published_at < now - longest)
        )
        return or_(model.published_at.is_(None), *waits)

    async def _confirm_acknowledged(self, connection: AsyncConnection, now: datetime) -> int:
        model = self.model
        waiting = (
            await connection.scalars(
                select(model.id)
                .where(model.confirmed_at.is_(None), model.published_at.is_not(None))
                .order_by(model.published_at)
                .limit(RELAY_BATCH)
                .with_for_update(skip_locked=True)
            )
        ).all()
        acknowledged = await self.acks.confirmed(waiting)
        await self._mark_confirmed(connection, acknowledged, now)
        return len(acknowledged)
