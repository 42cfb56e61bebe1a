"""The demo catalogue of the manual, with "Enfant TEST" registered to ALSH Josta Leku (idempotent).

Dates follow today's date in Paris (the town's): the current school year and the next
holidays (`portail.demo.next_holidays`), both with their registration window open now, and
openings for the coming weeks. Enfant TEST went to the ALSH on a few days of last month
(`portail.demo.billing_month`, the month the staff's « Facturation » page opens on), so that
its preview has lines; when that month is in the summer before the school year, the past
summer holidays' period holds those days.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portail.demo import (
    DEMO_ACTIVITY_ALSH,
    DEMO_ACTIVITY_ALSH_ID,
    DEMO_ACTIVITY_CANTINE,
    DEMO_ACTIVITY_CANTINE_ID,
    DEMO_ACTIVITY_PERISCOLAIRE,
    DEMO_ACTIVITY_PERISCOLAIRE_ID,
    DEMO_CHILD_FIRST_NAME,
    DEMO_CHILD_ID,
    DEMO_FAMILY_ID,
    DEMO_FAMILY_NAME,
    Holidays,
    billing_month,
    holidays_of,
    holidays_registration_window,
    next_holidays,
    school_year_of,
)
from services.kit.database import Database

from .clock import Clock, system_clock
from .models import (
    ACCEPTED,
    CONFIRMED,
    Activity,
    ActivityGroup,
    Opening,
    Period,
    Registration,
    Reservation,
    Unit,
)
from .openings import create_openings
from .places import take_place
from .schemas import OpeningsBulkCreate
from .workdays import as_utc, paris_day

OPENING_WEEKS = 6
MON_TUE_THU_FRI = [0, 1, 3, 4]


def _id() -> str:
    return str(uuid.uuid4())


def _unit(code: str, label: str, start: str, end: str, excludes: tuple[str, ...] = ()) -> Unit:
    return Unit(
        id=_id(),
        code=code,
        label=label,
        starts_at=time.fromisoformat(start),
        ends_at=time.fromisoformat(end),
        excludes=list(excludes),
    )


def _activities() -> list[Activity]:
    now = datetime.now(UTC)
    return [
        Activity(
            id=DEMO_ACTIVITY_ALSH_ID,
            name=DEMO_ACTIVITY_ALSH,
            description="Accueil de loisirs des mercredis et des vacances scolaires.",
            created_at=now,
            validation="manual",
            waiting_list=True,
            # The manual's family still has its 4 documents « attendus » and books ALSH days:
            # the ALSH asks none, so the demo can be followed; the périscolaire and the
            # cantine ask them, so a refusal for missing documents can be seen too.
            documents_required=False,
            add_notice={"kind": "weekday_before", "weekday": 2, "at": "12:00:00"},
            cancel_notice={
                "kind": "days_before",
                "days": 2,
                "at": "10:00:00",
                "skip_weekends_and_holidays": True,
            },
            groups=[
                ActivityGroup(id=_id(), name="maternelle", min_age=3, max_age=5, capacity=16),
                ActivityGroup(id=_id(), name="primaire", min_age=6, max_age=11, capacity=24),
            ],
            units=[
                _unit("journee", "Journée", "08:30", "17:30", ("matin", "apres_midi")),
                _unit("matin", "Matin", "08:30", "12:00"),
                _unit("repas", "Repas", "12:00", "13:30"),
                _unit("apres_midi", "Après-midi", "13:30", "17:30"),
            ],
        ),
        Activity(
            id=DEMO_ACTIVITY_PERISCOLAIRE_ID,
            name=DEMO_ACTIVITY_PERISCOLAIRE,
            description="Garderie du matin et du soir à l'école Jean Verdun.",
            created_at=now,
            validation="automatic",
            waiting_list=False,
            documents_required=True,
            add_notice={"kind": "days_before", "days": 1, "at": "18:00:00"},
            cancel_notice={"kind": "days_before", "days": 1, "at": "18:00:00"},
            groups=[ActivityGroup(id=_id(), name="élémentaire", min_age=3, max_age=11)],
            units=[
                _unit("garderie_matin", "Garderie du matin", "07:30", "08:50"),
                _unit("garderie_soir", "Garderie du soir", "16:30", "18:30"),
            ],
        ),
        Activity(
            id=DEMO_ACTIVITY_CANTINE_ID,
            name=DEMO_ACTIVITY_CANTINE,
            description="Repas du midi les jours d'école.",
            created_at=now,
            validation="automatic",
            waiting_list=False,
            documents_required=True,
            add_notice={"kind": "weekday_before", "weekday": 2, "at": "12:00:00"},
            cancel_notice={"kind": "weekday_before", "weekday": 2, "at": "12:00:00"},
            groups=[ActivityGroup(id=_id(), name="élémentaire", min_age=3, max_age=11)],
            units=[_unit("repas", "Repas", "12:00", "13:30")],
        ),
    ]


def _periods(activity_id: str, today: date) -> list[Period]:
    first = school_year_of(today)
    label = f"{first}-{first + 1}"
    opened = as_utc(datetime.combine(today - timedelta(days=7), time(0, 0)))
    periods = [
        Period(
            id=_id(),
            activity_id=activity_id,
            name=f"Année scolaire {label}",
            school_year=label,
            starts_on=date(first, 9, 1),
            ends_on=date(first + 1, 7, 3),
            registration_opens_at=opened,
            registration_closes_at=as_utc(datetime(first + 1, 6, 30, 23, 59)),
        )
    ]
    if activity_id == DEMO_ACTIVITY_ALSH_ID:
        # The days the notifications seed's news announces.
        opens, closes = holidays_registration_window(today)
        periods.append(_holidays_period(activity_id, next_holidays(today), opens, closes))
        billed = billing_month(today)
        if billed < periods[0].starts_on:
            # Last month was in the summer before this school year: its ALSH days were those
            # of the summer holidays, whose registration closed long ago.
            summer = next(h for h in holidays_of(billed.year) if h.starts_on.month == 7)
            closed = summer.starts_on - timedelta(days=11)
            periods.append(
                _holidays_period(activity_id, summer, closed - timedelta(weeks=6), closed)
            )
    return periods


def _holidays_period(activity_id: str, holidays: Holidays, opens: date, closes: date) -> Period:
    return Period(
        id=_id(),
        activity_id=activity_id,
        name=holidays.name,
        school_year=holidays.school_year,
        starts_on=holidays.starts_on,
        ends_on=holidays.ends_on,
        registration_opens_at=as_utc(datetime.combine(opens, time(0, 0))),
        registration_closes_at=as_utc(datetime.combine(closes, time(23, 59))),
    )


OPENINGS: dict[str, list[dict[str, Any]]] = {
    DEMO_ACTIVITY_ALSH_ID: [
        {"capacity": 24, "groups": ["primaire"], "weekdays": [2]},
        {"capacity": 16, "groups": ["maternelle"], "weekdays": [2]},
    ],
    DEMO_ACTIVITY_PERISCOLAIRE_ID: [{"capacity": 30, "weekdays": MON_TUE_THU_FRI}],
    DEMO_ACTIVITY_CANTINE_ID: [{"capacity": 120, "weekdays": MON_TUE_THU_FRI}],
}


async def seed_demo(database: Database, *, clock: Clock = system_clock) -> None:
    """Create what is missing of the demo catalogue; running it again changes nothing."""
    # No events: demo data is a starting point, not something that happened.
    # The town's date: seeded at 00:30 in Paris, the openings start that day, not yesterday.
    today = paris_day(clock())
    async with database.transaction() as session:
        for activity in _activities():
            if await session.get(Activity, activity.id) is None:
                session.add(activity)
                await session.flush()
            await _seed_periods(session, activity.id, today)
        await _register_demo_child(session)
        await _book_demo_child(session, today)


async def _seed_periods(session: AsyncSession, activity_id: str, today: date) -> None:
    existing = {
        p.name: p
        for p in await session.scalars(select(Period).where(Period.activity_id == activity_id))
    }
    for period in _periods(activity_id, today):
        if period.name in existing:
            continue
        session.add(period)
        await session.flush()
        holidays = period.name.startswith("Vacances")
        # Holidays open all their days; the school year the coming weeks only. Both open the
        # days of last month they cover, the days the demo child attended.
        billed = billing_month(today)
        ranges = [
            (period.starts_on, period.ends_on)
            if holidays
            else (today, today + timedelta(weeks=OPENING_WEEKS)),
            (billed, min(_next_month(billed), today) - timedelta(days=1)),
        ]
        for starts_on, ends_on in ranges:
            starts_on, ends_on = max(starts_on, period.starts_on), min(ends_on, period.ends_on)
            if starts_on > ends_on:
                continue
            for spec in OPENINGS[activity_id]:
                data = OpeningsBulkCreate(
                    **{**spec, **({"weekdays": [0, 1, 2, 3, 4]} if holidays else {})},
                    starts_on=starts_on,
                    ends_on=ends_on,
                )
                await create_openings(session, period_id=period.id, data=data)


def _next_month(first: date) -> date:
    return (first + timedelta(days=32)).replace(day=1)


async def _register_demo_child(session: AsyncSession) -> None:
    period = await session.scalar(
        select(Period)
        .where(Period.activity_id == DEMO_ACTIVITY_ALSH_ID, Period.name.like("Année scolaire%"))
        .order_by(Period.starts_on.desc())
    )
    already = await session.scalar(
        select(Registration.id).where(Registration.person_id == DEMO_CHILD_ID)
    )
    if period is None or already is not None:
        return
    group = await session.scalar(
        select(ActivityGroup).where(
            ActivityGroup.activity_id == DEMO_ACTIVITY_ALSH_ID, ActivityGroup.name == "primaire"
        )
    )
    assert group is not None and group.capacity is not None
    await take_place(session, group_id=group.id, period_id=period.id, capacity=group.capacity)
    now = datetime.now(UTC)
    session.add(
        Registration(
            id=_id(),
            family_id=DEMO_FAMILY_ID,
            person_id=DEMO_CHILD_ID,
            person_name=f"{DEMO_CHILD_FIRST_NAME} {DEMO_FAMILY_NAME}",
            activity_id=DEMO_ACTIVITY_ALSH_ID,
            period_id=period.id,
            group_id=group.id,
            state=ACCEPTED,
            created_at=now,
            updated_at=now,
            decided_at=now,
            decided_by="démo",
            holds_place=True,
        )
    )


DEMO_RESERVATIONS = 2  # the next Wednesdays with an opening, booked (journée) for Enfant TEST
DEMO_ATTENDED_DAYS = 4  # ALSH days (journée) of last month Enfant TEST was present at


async def _book_demo_child(session: AsyncSession, today: date) -> None:
    """A few confirmed reservations so that "Mes réservations" shows something at once, and
    a few days of last month attended, so that the month's invoicing has lines."""
    await session.flush()
    registration = await session.scalar(
        select(Registration).where(
            Registration.person_id == DEMO_CHILD_ID, Registration.state == ACCEPTED
        )
    )
    booked = await session.scalar(
        select(Reservation.id).where(Reservation.person_id == DEMO_CHILD_ID).limit(1)
    )
    if registration is None or booked is not None:
        return
    billed = billing_month(today)
    attended = await _alsh_days(
        session,
        registration,
        Opening.day >= billed,
        Opening.day < min(_next_month(billed), today),
        limit=DEMO_ATTENDED_DAYS,
    )
    coming = await _alsh_days(
        session,
        registration,
        Opening.period_id == registration.period_id,
        Opening.day > today + timedelta(days=7),
        limit=DEMO_RESERVATIONS,
    )
    now = datetime.now(UTC)
    for opening, attendance in [(o, "present") for o in attended] + [(o, None) for o in coming]:
        opening.booked += 1
        session.add(
            Reservation(
                id=_id(),
                family_id=DEMO_FAMILY_ID,
                person_id=DEMO_CHILD_ID,
                person_name=registration.person_name,
                activity_id=opening.activity_id,
                opening_id=opening.id,
                day=opening.day,
                unit_id=opening.unit_id,
                state=CONFIRMED,
                attendance=attendance,
                holds_place=True,
                changed_by="démo",
                created_at=now,
                updated_at=now,
                arrival=0,
            )
        )


async def _alsh_days(
    session: AsyncSession, registration: Registration, *where: Any, limit: int
) -> list[Opening]:
    """The first ALSH days (journée, in the demo child's group) with a place, of `where`."""
    return list(
        (
            await session.scalars(
                select(Opening)
                .join(Unit, Unit.id == Opening.unit_id)
                .where(
                    Opening.activity_id == DEMO_ACTIVITY_ALSH_ID,
                    Opening.group_id == registration.group_id,
                    Unit.code == "journee",
                    Opening.booked < Opening.capacity,
                    *where,
                )
                .order_by(Opening.day)
                .limit(limit)
            )
        ).all()
    )
