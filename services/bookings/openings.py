"""Openings: which unit is open on which day for which group, with capacity.

Made in bulk over a period's chosen weekdays, minus French public holidays and the
activity's closures; then edited one by one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import TypeVar

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from .catalogue import get_activity, get_period
from .errors import CatalogueConflict, OpeningNotFound
from .models import ActivityGroup, Closure, Opening, Unit
from .schemas import OpeningQuery, OpeningsBulkCreate, OpeningsBulkResult, OpeningUpdate, SkippedDay
from .workdays import public_holiday

MAX_RANGE_DAYS = 400
ItemT = TypeVar("ItemT")


async def create_openings(
    session: AsyncSession, *, period_id: str, data: OpeningsBulkCreate
) -> OpeningsBulkResult:
    """Open the chosen units for the chosen groups on every eligible day of the range.

    Days that already have an opening keep it (capacity untouched): running the same bulk
    creation twice changes nothing.
    """
    period = await get_period(session, period_id=period_id)
    activity = await get_activity(session, activity_id=period.activity_id)
    groups = _chosen(activity.groups, data.groups, lambda g: g.name, "groupe")
    units = _chosen(activity.units, data.units, lambda u: u.code, "unité")
    first = max(data.starts_on or period.starts_on, period.starts_on)
    last = min(data.ends_on or period.ends_on, period.ends_on)
    closures = dict(
        (
            await session.execute(
                select(Closure.day, Closure.reason).where(
                    Closure.activity_id == activity.id, Closure.day.between(first, last)
                )
            )
        ).all()
    )
    existing = set(
        (
            await session.execute(
                select(Opening.group_id, Opening.unit_id, Opening.day).where(
                    Opening.activity_id == activity.id, Opening.day.between(first, last)
                )
            )
        ).all()
    )
    rows: list[dict[str, object]] = []
    skipped: list[SkippedDay] = []
    already = 0
    for day in _days(first, last):
        if day.weekday() not in data.weekdays:
            continue
        holiday = public_holiday(day)
        if holiday:
            skipped.append(SkippedDay(day=day, reason=f"Jour férié : {holiday}"))
            continue
        if day in closures:
            reason = closures[day] or "fermeture"
            skipped.append(SkippedDay(day=day, reason=f"Fermeture : {reason}"))
            continue
        for group in groups:
            for unit in units:
                if (group.id, unit.id, day) in existing:
                    already += 1
                    continue
                rows.append(
                    {
                        "id": str(uuid.uuid4()),
                        "activity_id": activity.id,
                        "period_id": period.id,
                        "group_id": group.id,
                        "unit_id": unit.id,
                        "day": day,
                        "capacity": data.capacity,
                        "booked": 0,
                        "closed": False,
                    }
                )
    if rows:
        try:
            await session.execute(insert(Opening), rows)
        except IntegrityError:
            raise CatalogueConflict(
                "Des ouvertures viennent d'être créées en même temps ; réessayez."
            ) from None
    return OpeningsBulkResult(created=len(rows), already_there=already, skipped=skipped)


def _chosen(
    items: list[ItemT], names: list[str] | None, key: Callable[[ItemT], str], what: str
) -> list[ItemT]:
    if names is None:
        return list(items)
    by_name = {key(i): i for i in items}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise CatalogueConflict(f"{what.capitalize()} inconnu(e) : {', '.join(unknown)}.")
    return [by_name[n] for n in names]


def _days(first: date, last: date) -> list[date]:
    count = (last - first).days + 1
    if count > MAX_RANGE_DAYS:
        raise CatalogueConflict("Une création en masse couvre au plus 400 jours.")
    return [first + timedelta(days=i) for i in range(max(count, 0))]


async def list_openings(
    session: AsyncSession, *, query: OpeningQuery
) -> list[tuple[Opening, str, str]]:
    """Openings matching the filters, each with its group name and unit code, by day."""
    statement = (
        select(Opening, ActivityGroup.name, Unit.code)
        .join(ActivityGroup, ActivityGroup.id == Opening.group_id)
        .join(Unit, Unit.id == Opening.unit_id)
        .order_by(Opening.day, ActivityGroup.min_age, Unit.starts_at, Unit.code)
        .limit(5000)
    )
    if query.activity_id:
        statement = statement.where(Opening.activity_id == query.activity_id)
    if query.period_id:
        statement = statement.where(Opening.period_id == query.period_id)
    if query.group_id:
        statement = statement.where(Opening.group_id == query.group_id)
    if query.starts_on:
        statement = statement.where(Opening.day >= query.starts_on)
    if query.ends_on:
        statement = statement.where(Opening.day <= query.ends_on)
    return [(o, g, u) for o, g, u in (await session.execute(statement)).all()]


async def get_opening(session: AsyncSession, *, opening_id: str) -> tuple[Opening, str, str]:
    """One opening with its group name and unit code, or `OpeningNotFound`."""
    row = (
        await session.execute(
            select(Opening, ActivityGroup.name, Unit.code)
            .join(ActivityGroup, ActivityGroup.id == Opening.group_id)
            .join(Unit, Unit.id == Opening.unit_id)
            .where(Opening.id == opening_id)
        )
    ).first()
    if row is None:
        raise OpeningNotFound("Ouverture inconnue.")
    return row[0], row[1], row[2]


async def update_opening(
    session: AsyncSession, *, opening_id: str, data: OpeningUpdate
) -> tuple[Opening, str, str]:
    """Change one opening's capacity or close it; capacity never below what is booked."""
    row = (
        await session.execute(
            select(Opening, ActivityGroup.name, Unit.code)
            .join(ActivityGroup, ActivityGroup.id == Opening.group_id)
            .join(Unit, Unit.id == Opening.unit_id)
            .where(Opening.id == opening_id)
            .with_for_update(of=Opening)
        )
    ).first()
    if row is None:
        raise OpeningNotFound("Ouverture inconnue.")
    opening, group_name, unit_code = row
    if data.capacity is not None:
        if data.capacity < opening.booked:
            raise CatalogueConflict(
                f"Capacité trop faible : {opening.booked} places sont déjà réservées ce jour-là."
            )
        opening.capacity = data.capacity
    if data.closed is not None:
        opening.closed = data.closed
    await session.flush()
    return opening, group_name, unit_code
