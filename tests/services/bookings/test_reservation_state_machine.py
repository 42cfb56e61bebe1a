"""A Hypothesis state machine over the reservation rules, on PostgreSQL.

Steps: book, cancel, advance the clock, another family naming our child. After every step:
`confirmed ≤ capacity`, `booked == count(requested + confirmed)`, and nobody waits while a
place is free. Bounded (25 programs of at most 15 steps) so that it runs in seconds.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import text

from services.bookings.models import (
    Activity,
    ActivityGroup,
    Opening,
    Period,
    Registration,
    Unit,
)
from services.bookings.reservations import save_changes
from services.bookings.schemas_reservations import Change
from services.kit.database import Database
from tests import support

CAPACITY, CHILDREN = 3, 6
DAY = date(2027, 4, 21)
# The day may be changed until the day before at 10:00 Paris (08:00 UTC in April).
RULE = {"kind": "days_before", "days": 1, "at": "10:00", "skip_weekends_and_holidays": False}
START = datetime(2027, 4, 19, 8, 0, tzinfo=UTC)
NAME = f"{support.database_name('bookings')}_sm"


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class Reservations(RuleBasedStateMachine):
    """The model: who holds a place, who waits."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.database = Database(support.async_url(NAME))
        self.clock = Clock()

    def run(self, coroutine):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(coroutine)

    @initialize()
    def catalogue(self) -> None:
        self.opening = str(uuid.uuid4())
        self.children = [(str(uuid.uuid4()), str(uuid.uuid4())) for _ in range(CHILDREN)]
        self.run(self._catalogue())

    async def _catalogue(self) -> None:
        now = datetime.now(UTC)
        activity, group, unit, period = (str(uuid.uuid4()) for _ in range(4))
        async with self.database.transaction() as session:
            session.add(
                Activity(
                    id=activity,
                    name=f"SM {activity[:8]}",
                    created_at=now,
                    validation="automatic",
                    waiting_list=True,
                    documents_required=False,
                    add_notice=RULE,
                    cancel_notice=RULE,
                )
            )
            await session.flush()
            session.add(
                ActivityGroup(
                    id=group, activity_id=activity, name="primaire", min_age=3, max_age=11
                )
            )
            session.add(
                Unit(
                    id=unit,
                    activity_id=activity,
                    code="journee",
                    label="Journée",
                    starts_at=time(8, 30),
                    ends_at=time(17, 30),
                    excludes=[],
                )
            )
            session.add(
                Period(
                    id=period,
                    activity_id=activity,
                    name="P",
                    school_year="2026-2027",
                    starts_on=DAY,
                    ends_on=DAY,
                    registration_opens_at=now,
                    registration_closes_at=now + timedelta(days=1),
                )
            )
            await session.flush()
            session.add(
                Opening(
                    id=self.opening,
                    activity_id=activity,
                    period_id=period,
                    group_id=group,
                    unit_id=unit,
                    day=DAY,
                    capacity=CAPACITY,
                    booked=0,
                    closed=False,
                )
            )
            for family, person in self.children:
                session.add(
                    Registration(
                        id=str(uuid.uuid4()),
                        family_id=family,
                        person_id=person,
                        person_name="Enfant",
                        activity_id=activity,
                        state="accepted",
                        created_at=now,
                        updated_at=now,
                        period_id=period,
                        group_id=group,
                    )
                )

    def _save(self, family: str, person: str, action: str) -> dict[str, object]:
        result = self.run(
            save_changes(self.database, upstream=None, clock=self.clock, family_id=family,
                         changes=[Change(person_id=person, opening_id=self.opening,
                                         action=action)],  # type: ignore[arg-type]
                         actor={"by": "hypothesis", "by_role": "family"})
        )  # fmt: skip
        return result.results[0].model_dump()

    @rule(index=st.integers(0, CHILDREN - 1))
    def book(self, index: int) -> None:
        family, person = self.children[index]
        outcome = self._save(family, person, "book")
        if self.clock.now >= START + timedelta(days=1):
            # Past the deadline nothing is booked (already booked is said first, if so).
            assert outcome["ok"] is False
            assert outcome["code"] in ("past-deadline", "already-booked")

    @rule(index=st.integers(0, CHILDREN - 1))
    def cancel(self, index: int) -> None:
        family, person = self.children[index]
        outcome = self._save(family, person, "cancel")
        if self.clock.now >= START + timedelta(days=1):
            assert outcome["ok"] is False

    @rule(hours=st.integers(1, 30))
    def advance_the_clock(self, hours: int) -> None:
        self.clock.now += timedelta(hours=hours)

    @rule(index=st.integers(0, CHILDREN - 1))
    def another_family_names_our_child(self, index: int) -> None:
        _, person = self.children[index]
        outcome = self._save(str(uuid.uuid4()), person, "book")
        assert outcome["ok"] is False and outcome["code"] == "not-registered"

    @invariant()
    def places_add_up(self) -> None:
        if not hasattr(self, "opening"):
            return
        booked, holding, confirmed, waiting = self.run(self._counts())
        assert confirmed <= CAPACITY
        assert booked == holding
        assert waiting == 0 or booked == CAPACITY

    async def _counts(self) -> tuple[int, int, int, int]:
        async with self.database.sessions() as session:
            row = (
                await session.execute(
                    text(
                        "SELECT (SELECT booked FROM openings WHERE id = :o),"
                        " count(*) FILTER (WHERE state IN ('requested', 'confirmed')),"
                        " count(*) FILTER (WHERE state = 'confirmed'),"
                        " count(*) FILTER (WHERE state = 'waiting')"
                        " FROM reservations WHERE opening_id = :o"
                    ),
                    {"o": self.opening},
                )
            ).one()
        return int(row[0]), int(row[1]), int(row[2]), int(row[3])

    def teardown(self) -> None:
        self.run(self.database.dispose())
        self.loop.close()


def test_reservations_keep_their_invariants_whatever_the_order() -> None:
    asyncio.run(support.create_database(NAME))
    try:
        from services.bookings.app import MIGRATIONS
        from services.kit.migrations import upgrade

        upgrade(MIGRATIONS, support.async_url(NAME))
        machine = settings(
            max_examples=25, stateful_step_count=15, deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        )(Reservations)  # fmt: skip
        machine.TestCase().runTest()
    finally:
        asyncio.run(support.drop_database(NAME))
