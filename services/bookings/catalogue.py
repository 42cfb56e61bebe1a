"""The catalogue: activities with their rules, groups, units, periods and closures."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.kit.outbox import record_event, utcnow
from services.kit.problems import ValidationFailed

from . import events
from .config import BookingsSettings
from .errors import (
    ActivityNameTaken,
    ActivityNotFound,
    CatalogueConflict,
    GroupNotFound,
    PeriodNotFound,
    UnitNotFound,
)
from .models import (
    ACTIVE_STATES,
    RESERVATION_ACTIVE,
    Activity,
    ActivityGroup,
    Closure,
    GroupPlaces,
    Opening,
    OutboxMessage,
    Period,
    Registration,
    Reservation,
    Unit,
)
from .schemas import (
    ActivityCreate,
    ActivityUpdate,
    ClosureCreate,
    GroupCreate,
    GroupUpdate,
    PeriodCreate,
    PeriodUpdate,
    UnitCreate,
    UnitUpdate,
)


def _new_id() -> str:
    return str(uuid.uuid4())


def _rule(value: object) -> dict[str, object] | None:
    # Rules are stored as plain JSON; times as "HH:MM:SS".
    return None if value is None else value.model_dump(mode="json")  # type: ignore[attr-defined]


async def create_activity(session: AsyncSession, *, data: ActivityCreate) -> Activity:
    """Add an activity with its groups and units, and its `activity.created` event."""
    taken = await session.scalar(select(Activity.id).where(Activity.name == data.name))
    if taken is not None:
        raise ActivityNameTaken(f"Une activité nommée « {data.name} » existe déjà.")
    activity = Activity(
        id=_new_id(),
        name=data.name,
        description=data.description,
        created_at=utcnow(),
        validation=data.validation,
        waiting_list=data.waiting_list,
        documents_required=data.documents_required,
        add_notice=_rule(data.add_notice),
        cancel_notice=_rule(data.cancel_notice),
        groups=[_group(g) for g in data.groups],
        units=[_unit(u) for u in data.units],
    )
    session.add(activity)
    record_event(
        session,
        OutboxMessage,
        source=BookingsSettings.service_name,
        event_type=events.ACTIVITY_CREATED,
        data={"activity_id": activity.id, "name": activity.name},
    )
    await session.flush()
    return activity


def _group(data: GroupCreate) -> ActivityGroup:
    return ActivityGroup(
        id=_new_id(),
        name=data.name,
        min_age=data.min_age,
        max_age=data.max_age,
        capacity=data.capacity,
    )


def _unit(data: UnitCreate) -> Unit:
    return Unit(
        id=_new_id(),
        code=data.code,
        label=data.label,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        excludes=list(data.excludes),
    )


async def list_activities(session: AsyncSession) -> list[Activity]:
    """The catalogue, by name."""
    return list(await session.scalars(select(Activity).order_by(Activity.name)))


async def get_activity(session: AsyncSession, *, activity_id: str) -> Activity:
    """The activity with its groups and units, or `ActivityNotFound`."""
    activity = await session.get(Activity, activity_id)
    if activity is None:
        raise ActivityNotFound("Activité inconnue.")
    return activity


async def update_activity(
    session: AsyncSession, *, activity_id: str, data: ActivityUpdate
) -> Activity:
    """Change the name, description or rules that were sent."""
    activity = await get_activity(session, activity_id=activity_id)
    sent = data.model_fields_set
    if "name" in sent and data.name and data.name != activity.name:
        taken = await session.scalar(select(Activity.id).where(Activity.name == data.name))
        if taken is not None:
            raise ActivityNameTaken(f"Une activité nommée « {data.name} » existe déjà.")
        activity.name = data.name
    for field in ("description", "validation", "waiting_list", "documents_required"):
        if field in sent and getattr(data, field) is not None:
            setattr(activity, field, getattr(data, field))
    for field in ("add_notice", "cancel_notice"):
        if field in sent:  # an explicit null removes the rule
            setattr(activity, field, _rule(getattr(data, field)))
    await session.flush()
    return activity


async def add_group(session: AsyncSession, *, activity_id: str, data: GroupCreate) -> ActivityGroup:
    """Add an age group to an activity."""
    activity = await get_activity(session, activity_id=activity_id)
    if any(g.name == data.name for g in activity.groups):
        raise CatalogueConflict(f"Le groupe « {data.name} » existe déjà dans cette activité.")
    group = _group(data)
    activity.groups.append(group)
    await session.flush()
    return group


async def add_unit(session: AsyncSession, *, activity_id: str, data: UnitCreate) -> Unit:
    """Add a unit to an activity; the units it excludes must exist."""
    activity = await get_activity(session, activity_id=activity_id)
    codes = {u.code for u in activity.units}
    if data.code in codes:
        raise CatalogueConflict(f"L'unité « {data.code} » existe déjà dans cette activité.")
    unknown = set(data.excludes) - codes
    if unknown:
        raise CatalogueConflict(
            f"Unités inconnues dans « excludes » : {', '.join(sorted(unknown))}."
        )
    unit = _unit(data)
    activity.units.append(unit)
    await session.flush()
    return unit


def exclusions(units: Iterable[Unit]) -> dict[str, set[str]]:
    """Which unit codes cannot be booked the same day as each code (symmetric)."""
    result: dict[str, set[str]] = {u.code: set() for u in units}
    for unit in units:
        for other in unit.excludes:
            result.setdefault(unit.code, set()).add(other)
            result.setdefault(other, set()).add(unit.code)
    return result


async def get_group(session: AsyncSession, *, group_id: str) -> ActivityGroup:
    """The group, or `GroupNotFound`."""
    group = await session.get(ActivityGroup, group_id)
    if group is None:
        raise GroupNotFound("Groupe inconnu.")
    return group


async def update_unit(session: AsyncSession, *, unit_id: str, data: UnitUpdate) -> Unit:
    """Change a unit's label, times or incompatibilities (both directions)."""
    unit = await session.get(Unit, unit_id)
    if unit is None:
        raise UnitNotFound("Unité inconnue.")
    sent = data.model_fields_set
    if "label" in sent and data.label:
        unit.label = data.label
    if "starts_at" in sent:
        unit.starts_at = data.starts_at
    if "ends_at" in sent:
        unit.ends_at = data.ends_at
    if unit.starts_at and unit.ends_at and unit.ends_at <= unit.starts_at:
        raise ValidationFailed(
            "L'heure de fin doit être après l'heure de début.",
            errors=[{"field": "ends_at", "message": "ends_at must be after starts_at"}],
        )
    if data.excludes is not None:
        siblings = list(
            await session.scalars(
                select(Unit).where(Unit.activity_id == unit.activity_id, Unit.id != unit.id)
            )
        )
        wanted = set(data.excludes)
        unknown = wanted - {u.code for u in siblings}
        if unknown:
            raise CatalogueConflict(
                f"Unités inconnues dans « excludes » : {', '.join(sorted(unknown))}."
            )
        unit.excludes = sorted(wanted)
        # Exclusions are read symmetrically: a sibling no longer chosen stops excluding us.
        for sibling in siblings:
            if sibling.code not in wanted and unit.code in sibling.excludes:
                sibling.excludes = [c for c in sibling.excludes if c != unit.code]
    await session.flush()
    return unit


async def update_group(session: AsyncSession, *, group_id: str, data: GroupUpdate) -> ActivityGroup:
    """Change a group's name, ages or capacity (capacity: see `_set_capacity`)."""
    group = await get_group(session, group_id=group_id)
    sent = data.model_fields_set
    if "name" in sent and data.name and data.name != group.name:
        taken = await session.scalar(
            select(ActivityGroup.id).where(
                ActivityGroup.activity_id == group.activity_id, ActivityGroup.name == data.name
            )
        )
        if taken is not None:
            raise CatalogueConflict(f"Le groupe « {data.name} » existe déjà dans cette activité.")
        group.name = data.name
    min_age = data.min_age if data.min_age is not None else group.min_age
    max_age = data.max_age if data.max_age is not None else group.max_age
    if max_age < min_age:
        raise ValidationFailed(
            "L'âge maximum doit être supérieur ou égal à l'âge minimum.",
            errors=[{"field": "max_age", "message": "max_age must be at least min_age"}],
        )
    group.min_age, group.max_age = min_age, max_age
    if "capacity" in sent:
        await _set_capacity(session, group, data.capacity)
    await session.flush()
    return group


async def _set_capacity(session: AsyncSession, group: ActivityGroup, capacity: int | None) -> None:
    """Set a group's registration capacity; refused when below the places already taken."""
    group_id = group.id
    group.capacity = capacity
    if capacity is None:
        # Unlimited: no counter to guard any more.
        await session.execute(delete(GroupPlaces).where(GroupPlaces.group_id == group_id))
        await session.execute(
            update(Registration).where(Registration.group_id == group_id).values(holds_place=False)
        )
        return
    # Every active registration of the group now holds a place, per period.
    active = Registration.state.in_(ACTIVE_STATES)
    counts = (
        await session.execute(
            select(Registration.period_id, func.count())
            .where(Registration.group_id == group_id, active)
            .group_by(Registration.period_id)
        )
    ).all()
    over = [n for _, n in counts if n > capacity]
    if over:
        raise CatalogueConflict(
            f"Capacité trop faible : {max(over)} inscriptions sont déjà "
            "en cours ou acceptées dans ce groupe pour une période."
        )
    await session.execute(
        update(Registration)
        .where(Registration.group_id == group_id, active)
        .values(holds_place=True)
    )
    await session.execute(delete(GroupPlaces).where(GroupPlaces.group_id == group_id))
    for period_id, count in counts:
        session.add(
            GroupPlaces(group_id=group_id, period_id=period_id, capacity=capacity, registered=count)
        )


# --- periods and closures -----------------------------------------------------------------


async def create_period(session: AsyncSession, *, activity_id: str, data: PeriodCreate) -> Period:
    """Add a period with its registration window to an activity."""
    await get_activity(session, activity_id=activity_id)
    taken = await session.scalar(
        select(Period.id).where(Period.activity_id == activity_id, Period.name == data.name)
    )
    if taken is not None:
        raise CatalogueConflict(f"La période « {data.name} » existe déjà pour cette activité.")
    period = Period(id=_new_id(), activity_id=activity_id, **data.model_dump())
    session.add(period)
    await session.flush()
    return period


async def list_periods(session: AsyncSession, *, activity_id: str) -> list[Period]:
    """An activity's periods, by start date."""
    await get_activity(session, activity_id=activity_id)
    statement = select(Period).where(Period.activity_id == activity_id).order_by(Period.starts_on)
    return list(await session.scalars(statement))


async def get_period(session: AsyncSession, *, period_id: str) -> Period:
    """The period, or `PeriodNotFound`."""
    period = await session.get(Period, period_id)
    if period is None:
        raise PeriodNotFound("Période inconnue.")
    return period


async def update_period(session: AsyncSession, *, period_id: str, data: PeriodUpdate) -> Period:
    """Change a period's name, dates or window; new dates must still cover its openings."""
    # FOR UPDATE, not the default NO KEY UPDATE: it waits for openings being inserted for
    # this period (their foreign key holds a KEY SHARE lock), so the count below sees them.
    period = await session.scalar(select(Period).where(Period.id == period_id).with_for_update())
    if period is None:
        raise PeriodNotFound("Période inconnue.")
    sent = data.model_fields_set
    if "name" in sent and data.name and data.name != period.name:
        taken = await session.scalar(
            select(Period.id).where(
                Period.activity_id == period.activity_id, Period.name == data.name
            )
        )
        if taken is not None:
            raise CatalogueConflict(f"La période « {data.name} » existe déjà pour cette activité.")
        period.name = data.name
    starts_on = data.starts_on or period.starts_on
    ends_on = data.ends_on or period.ends_on
    opens_at = data.registration_opens_at or period.registration_opens_at
    closes_at = data.registration_closes_at or period.registration_closes_at
    _judge_period(starts_on, ends_on, opens_at, closes_at)
    if (starts_on, ends_on) != (period.starts_on, period.ends_on):
        await _keep_openings_inside(session, period, starts_on, ends_on)
    period.starts_on, period.ends_on = starts_on, ends_on
    period.registration_opens_at, period.registration_closes_at = opens_at, closes_at
    await session.flush()
    return period


def _judge_period(starts_on: date, ends_on: date, opens_at: datetime, closes_at: datetime) -> None:
    # The same rules as a new period's, judged on what the period would become.
    if ends_on < starts_on:
        raise ValidationFailed(
            "Le dernier jour ne peut pas précéder le premier.",
            errors=[{"field": "ends_on", "message": "ends_on must not be before starts_on"}],
        )
    if (ends_on - starts_on).days > 400:
        raise ValidationFailed(
            "Une période dure au plus une année scolaire.",
            errors=[{"field": "ends_on", "message": "a period lasts at most a school year"}],
        )
    if closes_at <= opens_at:
        raise ValidationFailed(
            "La fenêtre d'inscription doit se fermer après son ouverture.",
            errors=[
                {
                    "field": "registration_closes_at",
                    "message": "the registration window must close after it opens",
                }
            ],
        )


async def _keep_openings_inside(
    session: AsyncSession, period: Period, starts_on: date, ends_on: date
) -> None:
    """Refuse dates that would leave openings (and so reservations) outside the period."""
    outside = and_(
        Opening.period_id == period.id, or_(Opening.day < starts_on, Opening.day > ends_on)
    )
    count = await session.scalar(select(func.count()).select_from(Opening).where(outside))
    if not count:
        return
    booked = await session.scalar(
        select(func.count())
        .select_from(Reservation)
        .join(Opening, Opening.id == Reservation.opening_id)
        .where(outside, Reservation.state.in_(RESERVATION_ACTIVE))
    )
    first, last = (
        await session.execute(
            select(func.min(Opening.day), func.max(Opening.day)).where(
                Opening.period_id == period.id
            )
        )
    ).one()
    with_bookings = (
        f" (et {plural(booked, 'réservation', 'réservations')} en cours)" if booked else ""
    )
    raise CatalogueConflict(
        f"Ces dates laisseraient {plural(count, 'ouverture', 'ouvertures')}{with_bookings} "
        f"en dehors de la période. Elle doit couvrir au moins du {first:%d/%m/%Y} au "
        f"{last:%d/%m/%Y}, ses premier et dernier jours ouverts."
    )


def plural(count: int, singular: str, several: str) -> str:
    """`1 ouverture`, `3 ouvertures` (French: 0 and 1 are singular)."""
    return f"{count} {singular if count <= 1 else several}"


def window_open(period: Period, now: datetime) -> bool:
    """Whether registrations for `period` are accepted at `now`."""
    return period.registration_opens_at <= now < period.registration_closes_at


async def open_catalogue(
    session: AsyncSession, *, now: datetime
) -> list[tuple[Activity, list[Period]]]:
    """Activities with the periods whose registration window is open at `now`."""
    periods = list(
        await session.scalars(
            select(Period)
            .where(Period.registration_opens_at <= now, Period.registration_closes_at > now)
            .order_by(Period.starts_on)
        )
    )
    by_activity: dict[str, list[Period]] = {}
    for period in periods:
        by_activity.setdefault(period.activity_id, []).append(period)
    if not by_activity:
        return []
    activities = await session.scalars(
        select(Activity).where(Activity.id.in_(by_activity)).order_by(Activity.name)
    )
    return [(a, by_activity[a.id]) for a in activities]


async def add_closures(
    session: AsyncSession, *, activity_id: str, data: ClosureCreate
) -> list[Closure]:
    """Close days of an activity (days already closed are kept as they are)."""
    await get_activity(session, activity_id=activity_id)
    existing = set(
        await session.scalars(
            select(Closure.day).where(
                Closure.activity_id == activity_id, Closure.day.in_(data.days)
            )
        )
    )
    added = [
        Closure(id=_new_id(), activity_id=activity_id, day=day, reason=data.reason)
        for day in sorted(set(data.days) - existing)
    ]
    session.add_all(added)
    try:
        await session.flush()
    except IntegrityError:
        raise CatalogueConflict("Ces fermetures viennent d'être modifiées ; réessayez.") from None
    return added


async def list_closures(session: AsyncSession, *, activity_id: str) -> list[Closure]:
    """An activity's closed days."""
    await get_activity(session, activity_id=activity_id)
    statement = select(Closure).where(Closure.activity_id == activity_id).order_by(Closure.day)
    return list(await session.scalars(statement))
