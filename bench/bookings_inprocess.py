"""Where the reservation time goes: the service functions called in-process (no HTTP), on
the town left by bench.bookings_reservations (database pf_bench_bookings), with the number
of SQL statements each sends.

    uv run python -m bench.bookings_inprocess
"""

from __future__ import annotations

import asyncio
import json
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


async def main() -> None:
    """Time 200 plannings and 50 saves of 10, counting statements."""
    database = Database(f"{URL}/pf_bench_bookings")
    statements = 0

    @event.listens_for(database.engine.sync_engine, "before_cursor_execute")
    def _count(*_args: object) -> None:
        nonlocal statements
        statements += 1

    now = datetime.now(UTC)
    async with database.sessions() as session:
        people = (
            await session.execute(
                text("SELECT family_id, person_id FROM registrations WHERE person_name = "
                     "'Enfant bench' ORDER BY id LIMIT 260")
            )
        ).all()  # fmt: skip
    days = planning_range(WEEK, 7, "week", now.date())
    statements = 0
    started = time.perf_counter()
    for family, person in people[:200]:
        async with database.sessions() as session:
            await planning(session, family_id=family, person_id=person, days=days, now=now)
    week_ms = (time.perf_counter() - started) * 1000 / 200
    week_statements = statements / 200
    saves = []
    for family, person in people[200:250]:
        async with database.sessions() as session:
            rows = await session.execute(
                text("SELECT o.id FROM openings o JOIN registrations r ON r.group_id = o.group_id"
                     " WHERE r.person_id = :p AND o.day BETWEEN :a AND :b LIMIT 10"),
                {"p": person, "a": FREE_WEEK, "b": FREE_WEEK + timedelta(days=6)},
            )  # fmt: skip
            saves.append((family, [Change(person_id=person, opening_id=r[0], action="book")
                                   for r in rows]))  # fmt: skip
    statements = 0
    started = time.perf_counter()
    for family, changes in saves:
        await save_changes(database, upstream=None, clock=lambda: datetime.now(UTC),
                           family_id=family, changes=changes, by="bench")  # fmt: skip
    save_ms = (time.perf_counter() - started) * 1000 / len(saves)
    save_statements = statements / len(saves)
    await database.dispose()
    print(json.dumps({
        "planning_week_ms": round(week_ms, 2), "planning_statements": week_statements,
        "save_10_ms": round(save_ms, 2), "save_10_statements": save_statements,
    }))  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
