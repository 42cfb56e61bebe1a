"""The async SQLAlchemy engine and sessions of one service, on PostgreSQL or embedded SQLite."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
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


def create_engine(url: str, *, pool_size: int = 10, pre_ping: bool = True) -> AsyncEngine:
    """An engine tuned for the backend: pooled asyncpg, or SQLite taking its write lock upfront.

    `pre_ping` tests a pooled connection before each use (one round trip); a caller whose
    failed transaction is retried anyway, like a worker's task, may do without it.
    """
    if not is_sqlite(url):
        return create_async_engine(
            url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=pre_ping
        )
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": 30})
    _take_sqlite_write_lock_at_begin(engine)
    return engine


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


class Database:
    """An engine and its session factory, opened with the app and disposed with it."""

    def __init__(self, url: str, *, pool_size: int = 10, pre_ping: bool = True) -> None:
        self.url = url
        self.engine = create_engine(url, pool_size=pool_size, pre_ping=pre_ping)
        # Set when a transaction that wrote an outbox row commits, so that the relay
        # publishes at once instead of waiting for its next poll.
        self.outbox_committed = asyncio.Event()

        class _Session(Session):
            pass

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
            if not is_sqlite(self.url):
                await connection.execution_options(isolation_level="AUTOCOMMIT")
            yield connection

    async def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
