"""Repeat a week: the same units on the same weekdays, every week or one in two until a date,
for the same child or several (the manual's "mêmes jours pour plusieurs enfants"), and "copy
last week" (last week repeated once on this one). The changes made are then saved like any
others: each checked on its own, at most `MAX_CHANGES`."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.kit.problems import ValidationFailed

from .grid import week_start
from .models import ACCEPTED, CONFIRMED, RES_REQUESTED, Opening, Registration, Reservation, Unit
from .schemas_reservations import MAX_CHANGES, Change, RepeatRequest


async def repeat_changes(
    session: AsyncSession, *, family_id: str, request: RepeatRequest
) -> list[Change]:
    """The booking changes that repeat `request.person_id`'s week as asked."""
    source_monday = week_start(request.week_of)
    source = (
        await session.execute(
            select(Reservation.activity_id, Unit.code, Reservation.day)
            .join(Unit, Unit.id == Reservation.unit_id)
            .where(
                Reservation.family_id == family_id,
                Reservation.person_id == request.person_id,
                Reservation.day.between(source_monday, source_monday + timedelta(days=6)),
                Reservation.state.in_((CONFIRMED, RES_REQUESTED)),
            )
        )
    ).all()
    pattern = sorted({(a, code, day.weekday()) for a, code, day in source})
    targets = list(dict.fromkeys(request.person_ids or [request.person_id]))
    step = timedelta(weeks=request.every)
    weeks: list[date] = []
    monday = source_monday + step
    while monday <= request.until:
        weeks.append(monday)
        monday += step
    if not pattern:
        return []
    activity_ids = sorted({a for a, _, _ in pattern})
    registrations = (
        await session.execute(
            select(Registration.person_id, Registration.activity_id, Registration.group_id).where(
                Registration.family_id == family_id,
                Registration.person_id.in_(targets),
                Registration.activity_id.in_(activity_ids),
                Registration.state == ACCEPTED,
            )
        )
    ).all()
    groups: dict[tuple[str, str], set[str]] = {}
    for person, activity, group in registrations:
        groups.setdefault((person, activity), set()).add(group)
    last = max([*weeks, source_monday]) + timedelta(days=6)
    openings = (
        await session.execute(
            select(Opening.id, Opening.activity_id, Opening.group_id, Unit.code, Opening.day)
            .join(Unit, Unit.id == Opening.unit_id)
            .where(Opening.activity_id.in_(activity_ids), Opening.day.between(source_monday, last))
        )
    ).all()
    by_key = {(a, g, code, day): oid for oid, a, g, code, day in openings}
    changes: list[Change] = []
    for person in targets:
        person_weeks = weeks if person == request.person_id else [source_monday, *weeks]
        for monday in person_weeks:
            for activity, code, weekday in pattern:
                day = monday + timedelta(days=weekday)
                opening = next(
                    (
                        by_key[(activity, g, code, day)]
                        for g in sorted(groups.get((person, activity), ()))
                        if (activity, g, code, day) in by_key
                    ),
                    None,
                )
                if opening is not None:
                    changes.append(Change(person_id=person, opening_id=opening, action="book"))
                if len(changes) > MAX_CHANGES:
                    raise ValidationFailed(
                        f"Cette répétition ferait plus de {MAX_CHANGES} changements : "
                        "choisissez une date de fin plus proche.",
                    )
    return changes
