"""The demo catalogue: seeded once however often it runs, on PostgreSQL and on SQLite."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portail.demo import (
    DEMO_ACTIVITY_ALSH,
    DEMO_ACTIVITY_PERISCOLAIRE_ID,
    DEMO_CHILD_ID,
    DEMO_FAMILY_ID,
)
from services.bookings.models import Activity, Opening, Period, Registration
from services.bookings.seed import seed_demo
from services.kit.database import Database
from services.kit.migrations import upgrade_async
from services.kit.testing import TestSigner
from tests import support

from .factories import parent
from .planning import book, save

MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "bookings" / "migrations"


async def _counts(database: Database) -> tuple[int, int, int, int]:
    async with database.sessions() as session:
        return tuple(  # type: ignore[return-value]
            [
                int(await session.scalar(select(func.count()).select_from(model)) or 0)
                for model in (Activity, Period, Opening, Registration)
            ]
        )


@pytest.mark.parametrize(
    ("seeded_on", "periods"),
    # Three school years and the ALSH's next holidays; in September, the past summer's too
    # (last month's ALSH days, to invoice, were there).
    [(date(2026, 11, 29), 4), (date(2026, 9, 10), 5)],
)
async def test_the_seed_is_idempotent_on_sqlite(
    tmp_path: Path, seeded_on: date, periods: int
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bookings.sqlite'}"
    await upgrade_async(MIGRATIONS, url)
    database = Database(url)
    at = datetime.combine(seeded_on, datetime.min.time(), UTC) + timedelta(hours=10)
    try:
        await seed_demo(database, clock=lambda: at)
        first = await _counts(database)
        await seed_demo(database, clock=lambda: at)
        assert await _counts(database) == first
        activities, found, openings, registrations = first
        assert (activities, found, registrations) == (3, periods, 1)
        assert openings > 0
    finally:
        await database.dispose()


async def test_the_demo_child_is_registered_to_the_alsh_and_the_catalogue_is_open(
    service_client, signer: TestSigner
) -> None:
    client = await service_client("bookings")
    database = Database(support.async_url(support.database_name("bookings")))
    try:
        await seed_demo(database)
        await seed_demo(database)
    finally:
        await database.dispose()
    headers = parent(signer, DEMO_FAMILY_ID)
    mine = await (
        await client.get(f"/families/{DEMO_FAMILY_ID}/registrations", headers=headers)
    ).json()
    alsh = [r for r in mine["items"] if r["person_id"] == DEMO_CHILD_ID]
    assert [(r["activity_name"], r["state_label"], r["group_name"]) for r in alsh] == [
        (DEMO_ACTIVITY_ALSH, "acceptée", "primaire")
    ]
    catalogue = await (await client.get("/catalogue", headers=headers)).json()
    names = {a["name"]: a for a in catalogue["items"]}
    assert {"ALSH Josta Leku", "Périscolaire Jean Verdun", "Restauration scolaire"} <= set(names)
    assert {p["name"].split(" ")[0] for p in names[DEMO_ACTIVITY_ALSH]["periods"]} == {
        "Année",
        "Vacances",
    }


async def test_the_demo_child_has_a_few_confirmed_reservations_once(tmp_path: Path) -> None:
    from services.bookings.models import Reservation

    url = f"sqlite+aiosqlite:///{tmp_path / 'reservations.sqlite'}"
    await upgrade_async(MIGRATIONS, url)
    database = Database(url)
    try:
        await seed_demo(database)
        await seed_demo(database)
        async with database.sessions() as session:
            rows = (await session.scalars(select(Reservation))).all()
            assert {r.state for r in rows} == {"confirmed"}
            # Two days ahead to come; last month's Wednesdays attended (to invoice): four,
            # fewer when a public holiday falls on one.
            today = date.today()
            past = [r.attendance for r in rows if r.day < today]
            assert [r.attendance for r in rows if r.day > today] == [None, None]
            assert 2 <= len(past) <= 4 and set(past) == {"present"}
            for row in rows:
                opening = await session.get(Opening, row.opening_id)
                assert opening is not None and opening.booked == 1
    finally:
        await database.dispose()


async def test_the_demo_child_can_book_an_alsh_day_as_the_manual_does(
    service_client, signer: TestSigner
) -> None:
    """The manual books ALSH days for Enfant TEST while its documents are still « attendus »."""
    client = await service_client("bookings")
    database = Database(support.async_url(support.database_name("bookings")))
    try:
        await seed_demo(database)
    finally:
        await database.dispose()
    headers = parent(signer, DEMO_FAMILY_ID)
    bookable = []
    for weeks_ahead in (2, 3, 4, 5):
        starts_on = (date.today() + timedelta(weeks=weeks_ahead)).isoformat()
        response = await client.get(
            f"/families/{DEMO_FAMILY_ID}/persons/{DEMO_CHILD_ID}/planning",
            params={"starts_on": starts_on},
            headers=headers,
        )
        assert response.status == 200, await response.text()
        grid = await response.json()
        bookable += [
            cell["opening_id"]
            for activity in grid["activities"]
            if activity["activity_name"] == DEMO_ACTIVITY_ALSH
            for row in activity["rows"]
            for cell in row["cells"]
            if cell.get("bookable") and cell.get("opening_id")
        ]
    assert bookable, "some ALSH day is open to booking in the coming weeks"
    # No documents service runs here: an activity asking documents could not say yes.
    status, body = await save(client, signer, DEMO_FAMILY_ID, [book(DEMO_CHILD_ID, bookable[0])])
    assert status == 200 and body["results"][0]["ok"], body


async def test_the_seed_dates_from_the_towns_day_not_the_utc_one(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'paris.sqlite'}"
    await upgrade_async(MIGRATIONS, url)
    database = Database(url)
    # Thursday 23:30 UTC is Friday 00:30 in Paris: the openings start on Friday.
    thursday_night = datetime(2027, 2, 4, 23, 30, tzinfo=UTC)
    try:
        await seed_demo(database, clock=lambda: thursday_night)
        async with database.sessions() as session:
            first = await session.scalar(
                select(func.min(Opening.day))
                .join(Period, Period.id == Opening.period_id)
                .where(Opening.activity_id == DEMO_ACTIVITY_PERISCOLAIRE_ID)
                .where(Period.name.like("Année scolaire%"), Opening.day >= date(2027, 2, 1))
            )
    finally:
        await database.dispose()
    assert first == date(2027, 2, 5)  # (January's, before, are the days last month had)
