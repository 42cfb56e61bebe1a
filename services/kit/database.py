"""The async SQLAlchemy engine and sessions of one service, on PostgreSQL or embedded SQLite."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Session


class Base(DeclarativeBase):
    """Nothing shared: each service declares its own `Base` from this shape."""


def is_sqlite(url: str) -> bool:
    """Whether the URL names the embedded database."""
    return make_url(url).get_backend_name() == "sqlite"


# A pooled connection idle for longer than this is tested before use (`pre_ping`).
PING_AFTER_IDLE_SECONDS = 1.0


def create_engine(
    url: str, *, pool_size: int = 10, pre_ping: bool = True, max_overflow: int | None = None
) -> AsyncEngine:
    """An engine tuned for the backend: pooled asyncpg, or SQLite taking its write lock upfront.

    `pre_ping` tests a pooled connection before use when it sat idle in the pool for more
    than `PING_AFTER_IDLE_SECONDS` (`_ping_when_idle`); a caller whose failed transaction is
    retried anyway, like a worker's task, may do without it. `max_overflow` connections
    (default: `pool_size`) may be opened beyond the pool in a burst; each is closed when
    handed back.
    """
    if not is_sqlite(url):
        overflow = pool_size if max_overflow is None else max_overflow
        engine = create_async_engine(url, pool_size=pool_size, max_overflow=overflow)
        if pre_ping:
            _ping_when_idle(engine, PING_AFTER_IDLE_SECONDS)
        return engine
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": 30})
    _take_sqlite_write_lock_at_begin(engine)
    return engine


def _ping_when_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    # SQLAlchemy's own pre-ping tests every checkout, and asyncpg's ping outside a
    # transaction is three round trips (BEGIN, an empty statement, ROLLBACK): under load it
    # was a good part of a bookings request's database time. What it guards against, a
    # connection the server or the network dropped while it sat in the pool (a database
    # restart, a proxy's idle cut), needs the connection to have been idle for a while; a
    # connection handed back a moment ago is used as it is. A failed ping discards every
    # pooled connection opened before it and the checkout retries with a new one, as the
    # pre-ping does.
    dialect = engine.sync_engine.dialect

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get("returned_at")
        if returned is None or time.monotonic() - returned <= idle_seconds:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise exc.InvalidatePoolError(str(error)) from error
            raise


def _take_sqlite_write_lock_at_begin(engine: AsyncEngine) -> None:
    # A deferred SQLite transaction that later writes fails with "database is locked"
    # under concurrency, busy timeout or not; BEGIN IMMEDIATE queues writers instead.
    # The driver's own transaction handling is switched off so that ours is the only BEGIN.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


OUTBOX_WRITTEN = "outbox_written"
# The channel a commit that wrote outbox rows notifies on PostgreSQL, for a relay running in a
# process of its own (services/kit/outbox_listener.py). A notification reaches only the
# listeners of the same database, and each service has a database of its own: one name serves.
OUTBOX_CHANNEL = "outbox_committed"


_NOTIFY = text("SELECT pg_notify(:channel, '')")


class Database:
    """An engine and its session factory, opened with the app and disposed with it.

    On PostgreSQL, a transaction that wrote outbox rows (`outbox.events_written`) also sends
    `NOTIFY outbox_committed`, which wakes a relay running in a process of its own. A service
    that runs its relay in its own process passes `notify_outbox_commits=False`: the event
    below wakes that relay, and a notification nobody listens to would cost a round trip.
    """

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        pre_ping: bool = True,
        max_overflow: int | None = None,
        notify_outbox_commits: bool = True,
    ) -> None:
        self.url = url
        self._sqlite = is_sqlite(url)  # asked at every `reads()`: parsed once
        self.engine = create_engine(
            url, pool_size=pool_size, pre_ping=pre_ping, max_overflow=max_overflow
        )
        # Set when a transaction that wrote an outbox row commits, so that the relay
        # publishes at once instead of waiting for its next poll.
        self.outbox_committed = asyncio.Event()

        class _Session(Session):
            pass

        if notify_outbox_commits and not self._sqlite:

            @event.listens_for(_Session, "before_commit")
            def _notify_relay(session: Session) -> None:
                # In the transaction itself: PostgreSQL delivers it only if the COMMIT
                # succeeds, after the rows are visible, and folds a transaction's repeats.
                if session.info.get(OUTBOX_WRITTEN):
                    session.execute(_NOTIFY, {"channel": OUTBOX_CHANNEL})

        @event.listens_for(_Session, "after_commit")
        def _wake_relay(session: Session) -> None:
            if session.info.pop(OUTBOX_WRITTEN, False):
                self.outbox_committed.set()

        @event.listens_for(_Session, "after_rollback")
        def _forget(session: Session) -> None:
            session.info.pop(OUTBOX_WRITTEN, None)

        self.sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=_Session
        )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction, committed on success and rolled back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def reads(self) -> AsyncIterator[AsyncConnection]:
        """A connection for a few reads outside any transaction.

        On PostgreSQL it runs in autocommit: no BEGIN and ROLLBACK round trips around the
        reads (under the profiler they were a seventh of a bookings process's time serving
        plannings). Each statement sees its own snapshot, as it does inside a READ COMMITTED
        transaction anyway. SQLite keeps its usual transaction.
        """
        async with self.engine.connect() as connection:
            if not self._sqlite:
                await connection.execution_options(isolation_level="AUTOCOMMIT")
            yield connection

    async def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
