"""The households migration keeps existing persons in their family, on PostgreSQL and SQLite."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from portail.registry import service
from services.kit.database import create_engine
from services.kit.migrations import alembic_config, upgrade
from tests import support

MIGRATIONS = service("families").migrations_dir
FIRST = "e73b0984ffce"


async def _execute(url: str, *statements: str) -> list[list[tuple]]:
    engine = create_engine(url)
    results = []
    try:
        async with engine.begin() as connection:
            for statement in statements:
                result = await connection.execute(text(statement))
                results.append([tuple(r) for r in result.all()] if result.returns_rows else [])
    finally:
        await engine.dispose()
    return results


async def _round_trip(url: str) -> None:
    await asyncio.to_thread(upgrade, MIGRATIONS, url, FIRST)
    await _execute(
        url,
        "INSERT INTO families (id, name, created_at, version) "
        "VALUES ('f1', 'TEST', '2024-01-01 10:00:00+00', 1)",
        "INSERT INTO persons (id, family_id, role, first_name, last_name) "
        "VALUES ('p1', 'f1', 'child', 'Enfant', 'TEST')",
    )
    await asyncio.to_thread(upgrade, MIGRATIONS, url)
    members, persons, families = await _execute(
        url,
        "SELECT family_id, person_id FROM family_members",
        "SELECT id, version FROM persons",
        "SELECT id, status FROM families",
    )
    assert members == [("f1", "p1")]
    assert persons == [("p1", 1)]
    assert families == [("f1", "active")]

    await asyncio.to_thread(command.downgrade, alembic_config(MIGRATIONS, url), FIRST)
    [persons] = await _execute(url, "SELECT id, family_id FROM persons")
    assert persons == [("p1", "f1")]
    await asyncio.to_thread(upgrade, MIGRATIONS, url)


async def test_the_migration_round_trips_on_sqlite(tmp_path: Path) -> None:
    await _round_trip(f"sqlite+aiosqlite:///{tmp_path / 'families.sqlite'}")


@pytest.mark.timeout(180)
async def test_the_migration_round_trips_on_postgresql() -> None:
    name = support.database_name("families_migration")
    await support.create_database(name)
    try:
        await _round_trip(support.async_url(name))
    finally:
        await support.drop_database(name)
