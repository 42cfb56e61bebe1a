"""Where the reservation time goes: the service functions called in-process (no HTTP), on
the town left by bench.bookings_reservations (database pf_bench_bookings), with the number
of SQL statements each sends. Wall time includes PostgreSQL's work (on the same cores); CPU
time is this process's alone, the part that bounds one service process's throughput. The
saves' bookings are undone at the end (and before, should a run have stopped half-way), so
that the bench can be run again on the same town.

    uv run python -m bench.bookings_inprocess [--profile]

`--profile` runs the same calls under cProfile and prints where the time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import event, text

from services.bookings.grid import planning, planning_range
from services.bookings.reservations import save_changes
from services.bookings.schemas_reservations import Change
from services.kit.database import Database

from .harness import POSTGRES_ADMIN_URL

URL = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
WEEK = date(2027, 1, 11)
FREE_WEEK = date(2027, 4, 5)
BY = "bench-inprocess"
# The saves' rows removed and their openings' counts recomputed: the town as seeded.
UNDO = """
WITH gone AS (DELETE FROM reservations WHERE changed_by = :by RETURNING opening_id)
UPDATE openings o SET booked = (SELECT count(*) FROM reservations r WHERE r.opening_id = o.id
                                AND r.state IN ('requested', 'confirmed'))
WHERE o.id IN (SELECT opening_id FROM gone)
"""


async def undo_saves(database: Database) -> None:
    """Remove what the bench's saves booked."""
    async with database.transaction() as session:
        await session.execute(text(UNDO), {"by": BY})


async def main() -> None:
    """Time 200 plannings and 50 saves of 10, counting statements."""
    database = Database(f"{URL}/pf_bench_bookings")
    statements = 0

    @event.listens_for(database.engine.sync_engine, "before_cursor_execute")
    def _count(*_args: object) -> None:
        nonlocal statements
        statements += 1

    await undo_saves(database)
    now = datetime.now(UTC)
    async with database.sessions() as session:
        people = (
            await session.execute(
                text("SELECT family_id, person_id FROM registrations WHERE person_name = "
                     "'Enfant bench' ORDER BY id LIMIT 260")
            )
        ).all()  # fmt: skip
    days = planning_range(WEEK, 7, "week", now.date())
    # Warm-up: statements compiled and prepared, holidays and Babel's locale loaded.
    for family, person in people[250:260]:
        async with database.reads() as connection:
            await planning(connection, family_id=family, person_id=person, days=days, now=now)
    statements = 0
    started, cpu = time.perf_counter(), time.process_time()
    for family, person in people[:200]:
        async with database.reads() as connection:
            await planning(connection, family_id=family, person_id=person, days=days, now=now)
    week_ms = (time.perf_counter() - started) * 1000 / 200
    week_cpu_ms = (time.process_time() - cpu) * 1000 / 200
    week_statements = statements / 200
    saves = []
    for family, person in people[200:255]:
        async with database.sessions() as session:
            rows = await session.execute(
                text("SELECT o.id FROM openings o JOIN registrations r ON r.group_id = o.group_id"
                     " WHERE r.person_id = :p AND o.day BETWEEN :a AND :b LIMIT 10"),
                {"p": person, "a": FREE_WEEK, "b": FREE_WEEK + timedelta(days=6)},
            )  # fmt: skip
            saves.append((family, [Change(person_id=person, opening_id=r[0], action="book")
                                   for r in rows]))  # fmt: skip
    for family, changes in saves[50:]:  # warm-up
        await save_changes(database, upstream=None, clock=lambda: datetime.now(UTC),
                           family_id=family, changes=changes, by=BY)  # fmt: skip
    saves = saves[:50]
    statements = 0
    started, cpu = time.perf_counter(), time.process_time()
    for family, changes in saves:
        await save_changes(database, upstream=None, clock=lambda: datetime.now(UTC),
                           family_id=family, changes=changes, by=BY)  # fmt: skip
    save_ms = (time.perf_counter() - started) * 1000 / len(saves)
    save_cpu_ms = (time.process_time() - cpu) * 1000 / len(saves)
    save_statements = statements / len(saves)
    await undo_saves(database)
    await database.dispose()
    print(json.dumps({
        "planning_week_ms": round(week_ms, 2), "planning_cpu_ms": round(week_cpu_ms, 2),
        "planning_statements": week_statements, "save_10_ms": round(save_ms, 2),
        "save_10_cpu_ms": round(save_cpu_ms, 2), "save_10_statements": save_statements,
    }))  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", action="store_true")
    if parser.parse_args().profile:
        profiler = cProfile.Profile()
        profiler.runcall(asyncio.run, main())
        stats = pstats.Stats(profiler).sort_stats("cumulative")
        stats.print_stats(45)
        stats.sort_stats("tottime").print_stats(30)
    else:
        asyncio.run(main())
