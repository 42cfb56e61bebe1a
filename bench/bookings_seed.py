"""A realistic town for the reservation benchmarks, written with COPY (minutes, not hours).

    uv run python -m bench.bookings_seed --families 10000 --reservations 1000000

Families and children are ids only (bookings keeps names, not families' tables): 1.5
children per family, all registered (accepted) to a school restaurant with ten schools
(groups), a school year of openings (Monday, Tuesday, Thursday, Friday × repas, garderie
matin, garderie soir), and reservations spread over the days before February (later weeks
stay free for the save benchmark). A separate "ruée" group has one opening of 20 places
and 1,000 registered children for the opening-day rush.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time

import asyncpg

ACTIVITY = "Restauration scolaire (bench)"
UNITS = (("repas", "Repas", "12:00", "13:30"), ("garderie_matin", "Garderie matin", "07:30",
         "08:30"), ("garderie_soir", "Garderie soir", "16:30", "18:30"))  # fmt: skip
SCHOOLS = 10
FIRST, LAST = date(2026, 9, 1), date(2027, 7, 6)
BOOKED_UNTIL = date(2027, 1, 31)
RUSH_CHILDREN, RUSH_PLACES = 1000, 20
RUSH_DAY = date(2027, 6, 30)


@dataclass
class Town:
    """What the benchmarks need to know of the seeded town."""

    activity_id: str
    children: list[tuple[str, str]]  # (family_id, person_id)
    rush_opening: str
    rush_children: list[tuple[str, str]]
    openings: int
    reservations: int


def _id() -> str:
    return str(uuid.uuid4())


def _days() -> list[date]:
    days, day = [], FIRST
    while day <= LAST:
        if day.weekday() in (0, 1, 3, 4):
            days.append(day)
        day += timedelta(days=1)
    return days


async def seed(dsn: str, *, families: int, reservations: int, seed_value: int = 7) -> Town:
    """Fill an empty, migrated bookings database; returns what the benchmarks use."""
    rng = random.Random(seed_value)
    now = datetime.now(UTC)
    connection = await asyncpg.connect(dsn)
    try:
        activity_id = _id()
        await connection.execute(
            "INSERT INTO activities (id, name, created_at, description, validation, waiting_list,"
            " documents_required) VALUES ($1, $2, $3, '', 'automatic', false, false)",
            activity_id, ACTIVITY, now,
        )  # fmt: skip
        groups = [(_id(), f"École {n + 1}") for n in range(SCHOOLS)]
        rush_group = (_id(), "Ruée")
        await connection.executemany(
            "INSERT INTO activity_groups (id, activity_id, name, min_age, max_age, capacity)"
            " VALUES ($1, $2, $3, 3, 11, NULL)",
            [(g, activity_id, name) for g, name in [*groups, rush_group]],
        )
        units = [(_id(), code, label, s, e) for code, label, s, e in UNITS]
        await connection.executemany(
            "INSERT INTO units (id, activity_id, code, label, starts_at, ends_at, excludes)"
            " VALUES ($1, $2, $3, $4, $5, $6, '[]')",
            [(u, activity_id, c, lab, clock_time.fromisoformat(s), clock_time.fromisoformat(e))
             for u, c, lab, s, e in units],
        )  # fmt: skip
        period_id = _id()
        await connection.execute(
            "INSERT INTO periods (id, activity_id, name, school_year, starts_on, ends_on,"
            " registration_opens_at, registration_closes_at)"
            " VALUES ($1, $2, 'Année scolaire 2026-2027', '2026-2027', $3, $4, $5, $6)",
            period_id, activity_id, FIRST, LAST, now - timedelta(days=90),
            now + timedelta(days=300),
        )  # fmt: skip
        children: list[tuple[str, str, str]] = []  # family, person, group
        for _ in range(families):
            family = _id()
            for _ in range(2 if rng.random() < 0.5 else 1):
                children.append((family, _id(), rng.choice(groups)[0]))
        per_school = len(children) // SCHOOLS + 1
        days = _days()
        opening_rows, opening_ids = [], {}
        for group_id, _ in groups:
            for day in days:
                for unit_id, *_ in units:
                    oid = _id()
                    opening_ids[(group_id, unit_id, day)] = oid
                    opening_rows.append(
                        (oid, activity_id, period_id, group_id, unit_id, day, per_school, 0, False)
                    )
        rush_opening = _id()
        opening_rows.append(
            (rush_opening, activity_id, period_id, rush_group[0], units[0][0], RUSH_DAY,
             RUSH_PLACES, 0, False)
        )  # fmt: skip
        rush = [(_id(), _id()) for _ in range(RUSH_CHILDREN)]
        registrations = [
            (_id(), f, p, activity_id, "accepted", now, period_id, g, "Enfant bench", None, now,
             "bench", now, False)
            for f, p, g in children
        ] + [
            (_id(), f, p, activity_id, "accepted", now, period_id, rush_group[0], "Enfant ruée",
             None, now, "bench", now, False)
            for f, p in rush
        ]  # fmt: skip
        # Reservations: random days before BOOKED_UNTIL, each child a share of the total.
        bookable = [d for d in days if d <= BOOKED_UNTIL]
        per_child = max(1, reservations // max(1, len(children)))
        booked: dict[str, int] = {}
        reservation_rows = []
        for family, person, group in children:
            cells = rng.sample(
                [(d, u) for d in bookable for u, *_ in units], min(per_child, len(bookable) * 3)
            )
            for day, unit_id in cells:
                oid = opening_ids[(group, unit_id, day)]
                booked[oid] = booked.get(oid, 0) + 1
                reservation_rows.append(
                    (_id(), family, person, "Enfant bench", activity_id, oid, day, unit_id,
                     "confirmed", True, None, None, "bench", now, now, 0)
                )  # fmt: skip
                if len(reservation_rows) >= reservations:
                    break
            if len(reservation_rows) >= reservations:
                break
        opening_rows = [(*row[:7], booked.get(row[0], 0), row[8]) for row in opening_rows]
        await connection.copy_records_to_table(
            "openings", records=opening_rows,
            columns=["id", "activity_id", "period_id", "group_id", "unit_id", "day", "capacity",
                     "booked", "closed"],
        )  # fmt: skip
        await connection.copy_records_to_table(
            "registrations", records=registrations,
            columns=["id", "family_id", "person_id", "activity_id", "state", "created_at",
                     "period_id", "group_id", "person_name", "refusal_reason", "decided_at",
                     "decided_by", "updated_at", "holds_place"],
        )  # fmt: skip
        await connection.copy_records_to_table(
            "reservations", records=reservation_rows,
            columns=["id", "family_id", "person_id", "person_name", "activity_id", "opening_id",
                     "day", "unit_id", "state", "holds_place", "attendance", "reason",
                     "changed_by", "created_at", "updated_at", "arrival"],
        )  # fmt: skip
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return Town(
        activity_id=activity_id,
        children=[(f, p) for f, p, _ in children],
        rush_opening=rush_opening,
        rush_children=rush,
        openings=len(opening_rows),
        reservations=len(reservation_rows),
    )


def main() -> None:
    """Seed a fresh database and print what was made."""
    from .harness import recreate_database, run_async

    parser = argparse.ArgumentParser()
    parser.add_argument("--families", type=int, default=10000)
    parser.add_argument("--reservations", type=int, default=1000000)
    parser.add_argument("--database", default="pf_bench_bookings")
    args = parser.parse_args()
    url = run_async(recreate_database(args.database))
    import subprocess
    import sys

    subprocess.run(
        [sys.executable, "-m", "portail.cli", "migrate", "bookings"],
        env={**__import__("os").environ, "BOOKINGS_DATABASE_URL": url}, check=True,
        capture_output=True,
    )  # fmt: skip
    started = time.perf_counter()
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    town = asyncio.run(seed(dsn, families=args.families, reservations=args.reservations))
    print(json.dumps({
        "families": args.families, "children": len(town.children), "openings": town.openings,
        "reservations": town.reservations, "seconds": round(time.perf_counter() - started, 1),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
