"""The embedded database takes its write lock at BEGIN: concurrent writers queue, never fail."""

from __future__ import annotations

import asyncio
from pathlib import Path

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
