"""Alembic migrations per service: one `migrations/` folder each, driven without an .ini file."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Connection

from .database import create_engine, is_sqlite


def alembic_config(migrations_dir: Path, database_url: str) -> Config:
    """An Alembic configuration for one service's folder and database."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(migrations_dir: Path, database_url: str, revision: str = "head") -> None:
    """Bring the database to `revision` (blocking: call from a thread or a CLI)."""
    command.upgrade(alembic_config(migrations_dir, database_url), revision)


async def upgrade_async(migrations_dir: Path, database_url: str) -> None:
    """`upgrade` from async code, in a thread because Alembic's env runs its own loop."""
    await asyncio.to_thread(upgrade, migrations_dir, database_url)


def run_env(target_metadata: MetaData) -> None:
    """The body of every service's `migrations/env.py`."""
    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is set by alembic_config()"
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_online(url, target_metadata))


async def _run_online(url: str, target_metadata: MetaData) -> None:
    engine = create_engine(url, pool_size=1)
    if is_sqlite(url):
        _without_sqlite_foreign_keys(engine.sync_engine)

    def run(connection: Connection) -> None:
        # SQLite cannot ALTER most things in place; batch mode copies the table instead.
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=is_sqlite(url),
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    try:
        async with engine.connect() as connection:
            await connection.run_sync(run)
            await connection.commit()
    finally:
        await engine.dispose()


def _without_sqlite_foreign_keys(sync_engine: object) -> None:
    # Batch mode rebuilds a table by dropping it; SQLite refuses that while foreign keys
    # are enforced and other tables point at it. The pragma only works outside a
    # transaction, so it is set when the connection opens (after the kit's own hook).
    @event.listens_for(sync_engine, "connect")
    def _off(dbapi_connection: object, _record: object) -> None:
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        cursor.execute("PRAGMA foreign_keys=OFF")
        cursor.close()
