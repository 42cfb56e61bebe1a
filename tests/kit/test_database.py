"""The kit's database: the embedded one takes its write lock at BEGIN (concurrent writers
queue, never fail); PostgreSQL's pooled connections are tested before use when they sat idle."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from services.kit.database import Database


async def test_concurrent_sqlite_writers_never_see_database_is_locked(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    async with database.transaction() as session:
        await session.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        await session.execute(text("INSERT INTO counter VALUES (0)"))

    async def increment() -> None:
        async with database.transaction() as session:
            # Read, then write: a deferred transaction would upgrade its lock here and fail.
            n = (await session.execute(text("SELECT n FROM counter"))).scalar_one()
            await session.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})

    await asyncio.gather(*(increment() for _ in range(200)))
    async with database.sessions() as session:
        assert (await session.execute(text("SELECT n FROM counter"))).scalar_one() == 200
    await database.dispose()


async def test_a_commit_that_wrote_an_event_wakes_the_relay(tmp_path: Path) -> None:
    from sqlalchemy.orm import DeclarativeBase

    from services.kit.outbox import OutboxMessageMixin, record_event

    class Base(DeclarativeBase):
        pass

    class Outbox(OutboxMessageMixin, Base):
        __tablename__ = "outbox_messages"

    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    async with database.engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)

    async with database.transaction() as session:
        await session.execute(text("SELECT 1"))
    assert not database.outbox_committed.is_set()

    async with database.transaction() as session:
        record_event(session, Outbox, source="test", event_type="thing.happened", data={})
        assert not database.outbox_committed.is_set()  # not before the commit
    assert database.outbox_committed.is_set()
    await database.dispose()


async def _backend_pid(database: Database) -> int:
    async with database.engine.connect() as connection:
        return int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _drop_backend(pid: int) -> None:
    import asyncpg

    from tests.support import POSTGRES_ADMIN_URL

    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        gone = "SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $1"
        for _ in range(100):  # the server has closed it once it is gone from the list
            if await admin.fetchval(gone, pid):
                return
            await asyncio.sleep(0.02)
    finally:
        await admin.close()


async def test_a_pooled_connection_dropped_while_idle_is_replaced_before_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The server dropped the connection while it sat in the pool (a restart, a proxy's idle
    # cut): the ping on checkout sees it and the request gets a new connection.
    from services.kit import database as kit_database
    from tests.support import POSTGRES_ADMIN_URL, async_url

    monkeypatch.setattr(kit_database, "PING_AFTER_IDLE_SECONDS", 0.05)
    database = Database(async_url(POSTGRES_ADMIN_URL.rsplit("/", 1)[1]), pool_size=1)
    try:
        pid = await _backend_pid(database)
        await _drop_backend(pid)
        await asyncio.sleep(0.1)
        assert await _backend_pid(database) != pid
    finally:
        await database.dispose()


async def test_a_connection_handed_back_a_moment_ago_is_used_without_a_ping(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The price of not pinging at every checkout: a connection dropped within
    # PING_AFTER_IDLE_SECONDS of its last use fails its next request (and the pool then
    # discards every connection opened before it). Without a ping per checkout, this is
    # what a test of the ping above would see too: proof it can fail.
    from sqlalchemy.exc import DBAPIError

    from services.kit import database as kit_database
    from tests.support import POSTGRES_ADMIN_URL, async_url

    monkeypatch.setattr(kit_database, "PING_AFTER_IDLE_SECONDS", 60.0)
    database = Database(async_url(POSTGRES_ADMIN_URL.rsplit("/", 1)[1]), pool_size=1)
    try:
        pid = await _backend_pid(database)
        await _drop_backend(pid)
        with pytest.raises(DBAPIError):
            await _backend_pid(database)
        assert await _backend_pid(database) != pid  # the next one gets a new connection
    finally:
        await database.dispose()
