"""Staff side of reservations: day and week lists, attendance, closures that cancel a day,
reads for municipal systems, and the billable lines billing reads each month."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from . import feed
from .errors import ActivityNotFound
from .models import (
    CONFIRMED,
    RES_CANCELLED,
    RESERVATION_ACTIVE,
    WAITING,
    Activity,
    ActivityGroup,
    Closure,
    Opening,
    Reservation,
    Unit,
)
from .reservations import CANCELLED_EVENT, opening_columns, opening_info, record
from .schemas_reservations import (
    ATTENDANCE_LABELS,
    RESERVATION_LABELS,
    AttendanceMark,
    BillableLine,
    ClosureCancellationResult,
    ReservationList,
    ReservationQuery,
    ReservationRead,
    Roster,
    RosterOpening,
    RosterPerson,
)


def reservation_rows() -> Any:
    """Reservations with their activity, group and unit names (the lists, the export)."""
    return (
        select(Reservation, Activity.name, ActivityGroup.name, Unit.code, Unit.label)
        .join(Activity, Activity.id == Reservation.activity_id)
        .join(Opening, Opening.id == Reservation.opening_id)
        .join(ActivityGroup, ActivityGroup.id == Opening.group_id)
        .join(Unit, Unit.id == Reservation.unit_id)
    )


def reservation_read(row: Any) -> ReservationRead:
    """The API's view of a reservation row of `reservation_rows()`."""
    r: Reservation = row[0]
    return ReservationRead(
        id=r.id,
        family_id=r.family_id,
        person_id=r.person_id,
        person_name=r.person_name,
        activity_id=r.activity_id,
        activity_name=row[1],
        opening_id=r.opening_id,
        group_name=row[2],
        unit_code=row[3],
        unit_label=row[4],
        day=r.day,
        state=r.state,
        state_label=RESERVATION_LABELS[r.state],
        attendance=r.attendance,
        reason=r.reason,
        created_at=r.created_at,
        updated_at=r.updated_at,
    )


async def list_reservations(session: AsyncSession, *, query: ReservationQuery) -> ReservationList:
    """Reservations of every family by filters (staff queue, municipal reads), page by page."""
    statement = reservation_rows()
    if query.activity_id:
        statement = statement.where(Reservation.activity_id == query.activity_id)
    if query.family_id:
        statement = statement.where(Reservation.family_id == query.family_id)
    if query.person_id:
        statement = statement.where(Reservation.person_id == query.person_id)
    if query.state:
        statement = statement.where(Reservation.state == query.state)
    if query.starts_on:
        statement = statement.where(Reservation.day >= query.starts_on)
    if query.ends_on:
        statement = statement.where(Reservation.day <= query.ends_on)
    if query.since is not None:
        statement = statement.where(Reservation.updated_at >= query.since)
    if query.cursor is not None:
        position = feed.Position.decode(query.cursor)
        statement = statement.where(feed.after(Reservation.updated_at, Reservation.id, position))
    statement = statement.order_by(Reservation.updated_at, Reservation.id).limit(query.limit)
    items = [reservation_read(row) for row in (await session.execute(statement)).all()]
    return ReservationList(items=items, next_cursor=feed.next_cursor(items, query.limit))


async def roster(
    session: AsyncSession, *, activity_id: str, first: date, days: int, group_id: str | None
) -> Roster:
    """Who is booked and who waits, opening by opening, over one day or a week."""
    activity = await session.get(Activity, activity_id)
    if activity is None:
        raise ActivityNotFound("Activité inconnue.")
    last = first + timedelta(days=days - 1)
    statement = (
        select(Opening, ActivityGroup.name, Unit.code, Unit.label)
        .join(ActivityGroup, ActivityGroup.id == Opening.group_id)
        .join(Unit, Unit.id == Opening.unit_id)
        .where(Opening.activity_id == activity_id, Opening.day.between(first, last))
        .order_by(Opening.day, ActivityGroup.min_age, Unit.starts_at, Unit.code)
    )
    if group_id:
        statement = statement.where(Opening.group_id == group_id)
    openings = (await session.execute(statement)).all()
    people = (
        await session.execute(
            select(Reservation)
            .where(
                Reservation.activity_id == activity_id,
                Reservation.day.between(first, last),
                Reservation.state.in_(RESERVATION_ACTIVE),
            )
            .order_by(Reservation.person_name, Reservation.created_at)
        )
    ).scalars()
    by_opening: dict[str, list[Reservation]] = {}
    for r in people:
        by_opening.setdefault(r.opening_id, []).append(r)
    items = []
    for opening, group_name, code, label in openings:
        rows = by_opening.get(opening.id, [])
        waiting = sorted((r for r in rows if r.state == WAITING), key=lambda r: r.arrival)
        items.append(
            RosterOpening(
                opening_id=opening.id,
                day=opening.day,
                group_name=group_name,
                unit_code=code,
                unit_label=label,
                capacity=opening.capacity,
                booked=opening.booked,
                closed=opening.closed,
                booked_persons=[_person(r) for r in rows if r.state != WAITING],
                waiting=[_person(r) for r in waiting],
            )
        )
    return Roster(
        activity_id=activity.id,
        activity_name=activity.name,
        starts_on=first,
        ends_on=last,
        openings=items,
    )


def _person(r: Reservation) -> RosterPerson:
    return RosterPerson(
        reservation_id=r.id,
        person_id=r.person_id,
        person_name=r.person_name,
        family_id=r.family_id,
        state=r.state,
        state_label=RESERVATION_LABELS[r.state],
        attendance=r.attendance,
    )


async def mark_attendance(
    session: AsyncSession, *, mark: AttendanceMark, now: datetime, by: str
) -> dict[str, Any]:
    """Record présent / absent justifié / absent non justifié on a confirmed reservation."""
    done = await session.execute(
        update(Reservation)
        .where(Reservation.id == mark.reservation_id, Reservation.state == CONFIRMED)
        .values(attendance=mark.attendance, updated_at=now, changed_by=by)
        .returning(Reservation.id)
    )
    if done.first() is None:
        return {
            "reservation_id": mark.reservation_id,
            "ok": False,
            "detail": "Réservation inconnue ou non confirmée.",
        }
    label = ATTENDANCE_LABELS[mark.attendance] if mark.attendance else "non relevé"
    return {"reservation_id": mark.reservation_id, "ok": True, "label": label}


async def cancel_for_closure(
    session: AsyncSession,
    *,
    activity_id: str,
    day: date,
    reason: str,
    now: datetime,
    actor: dict[str, str],
) -> ClosureCancellationResult:
    """Close the activity on `day`: openings closed, every reservation cancelled, families told.
    `actor`: who closes (`Identity.acted`), in the events."""
    by = actor["by"]
    activity = await session.get(Activity, activity_id)
    if activity is None:
        raise ActivityNotFound("Activité inconnue.")
    exists = await session.scalar(
        select(Closure.id).where(Closure.activity_id == activity_id, Closure.day == day)
    )
    if exists is None:
        session.add(Closure(id=str(uuid.uuid4()), activity_id=activity_id, day=day, reason=reason))
    closed = await session.execute(
        update(Opening)
        .where(Opening.activity_id == activity_id, Opening.day == day)
        .values(closed=True, booked=0)
        .returning(Opening.id)
    )
    openings_closed = len(closed.all())
    rows = (
        (
            await session.execute(
                select(Reservation)
                .where(
                    Reservation.activity_id == activity_id,
                    Reservation.day == day,
                    Reservation.state.in_(RESERVATION_ACTIVE),
                )
                .with_for_update()
            )
        )
        .scalars()
        .all()
    )
    infos: dict[str, Any] = {}
    for r in rows:
        if r.opening_id not in infos:
            row = (await session.execute(opening_columns().where(Opening.id == r.opening_id))).one()
            infos[r.opening_id] = opening_info(row)
        info = infos[r.opening_id]
        r.state, r.holds_place, r.updated_at, r.changed_by = RES_CANCELLED, False, now, by
        r.reason = f"Fermeture : {reason}"
        record(
            session,
            CANCELLED_EVENT,
            r.family_id,
            {
                "reservation_id": r.id,
                "family_id": r.family_id,
                "person_id": r.person_id,
                "person_name": r.person_name,
                "activity_id": activity_id,
                "activity_name": info.activity_name,
                "opening_id": r.opening_id,
                "date": day.isoformat(),
                "unit": info.unit_code,
                "unit_name": info.unit_label,
                "state": RES_CANCELLED,
                "reason": f"Fermeture : {reason}",
                "by_structure": True,
                **actor,
            },
        )
    await session.flush()
    return ClosureCancellationResult(day=day, cancelled=len(rows), openings_closed=openings_closed)


def _billing_state(attendance: str | None) -> str:
    return attendance or "reserved"


async def billable_lines(session: AsyncSession, *, month: str) -> list[BillableLine]:
    """Confirmed reservations of the month, with their attendance (billing's contract)."""
    year, number = int(month[:4]), int(month[5:7])
    first = date(year, number, 1)
    following = (first + timedelta(days=32)).replace(day=1)
    rows = await session.execute(
        select(
            Reservation.family_id,
            Reservation.person_id,
            Reservation.person_name,
            Reservation.activity_id,
            Activity.name,
            Unit.code,
            Reservation.day,
            Reservation.attendance,
        )
        .join(Activity, Activity.id == Reservation.activity_id)
        .join(Unit, Unit.id == Reservation.unit_id)
        .where(
            Reservation.day >= first,
            Reservation.day < following,
            Reservation.state == CONFIRMED,
        )
        .order_by(Reservation.family_id, Reservation.day, Reservation.person_id, Unit.code)
    )
    return [
        BillableLine(
            family_id=r[0],
            person_id=r[1],
            person_name=r[2],
            activity_id=r[3],
            activity_name=r[4],
            unit=r[5],
            date=r[6],
            state=_billing_state(r[7]),
        )
        for r in rows.all()
    ]
