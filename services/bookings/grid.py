"""The planning grid of one person: a row per unit, a cell per day, each cell's state and why.

Read with six small queries whatever the range (registrations, activities, units, periods,
openings, reservations, closures), never one per cell. The states are those of the legend:
possible (fermé, hors période, non inscrit, hors délai, disponible, dernières places,
complet) and booked (demande en attente, réservé, en liste d'attente, refusé, présent,
absent justifié, absent non justifié).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import (
    ACCEPTED,
    CONFIRMED,
    RES_CANCELLED,
    RES_REFUSED,
    RES_REQUESTED,
    WAITING,
    Activity,
    Closure,
    Opening,
    Period,
    Registration,
    Reservation,
    Unit,
)
from .notice_rules import deadline, describe_deadline, describe_rule, parse_rule
from .schemas_reservations import (
    ATTENDANCE_LABELS,
    Cell,
    LegendEntry,
    Planning,
    PlanningActivity,
    PlanningRow,
)
from .workdays import public_holiday

LEGEND = [
    LegendEntry(state="disponible", label="disponible", kind="possible"),
    LegendEntry(state="dernieres_places", label="dernières places", kind="possible"),
    LegendEntry(state="complet", label="complet", kind="possible"),
    LegendEntry(state="hors_delai", label="hors délai", kind="possible"),
    LegendEntry(state="ferme", label="fermé", kind="possible"),
    LegendEntry(state="hors_periode", label="hors période", kind="possible"),
    LegendEntry(state="non_inscrit", label="non inscrit", kind="possible"),
    LegendEntry(state="requested", label="demande en attente", kind="booked"),
    LegendEntry(state="confirmed", label="réservé", kind="booked"),
    LegendEntry(state="waiting", label="en liste d'attente", kind="booked"),
    LegendEntry(state="refused", label="refusé", kind="booked"),
    LegendEntry(state="present", label="présent", kind="booked"),
    LegendEntry(state="absent_justified", label="absent justifié", kind="booked"),
    LegendEntry(state="absent_unjustified", label="absent non justifié", kind="booked"),
]
BOOKED_LABELS = {
    RES_REQUESTED: "demande en attente",
    CONFIRMED: "réservé",
    WAITING: "en liste d'attente",
    RES_REFUSED: "refusé",
}


def week_start(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


def planning_range(starts_on: date | None, days: int, view: str, today: date) -> list[date]:
    """The days shown: a week from Monday, or a whole month, or `days` from `starts_on`."""
    anchor = starts_on or today
    if view == "month":
        first = anchor.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return [first + timedelta(days=i) for i in range((following - first).days)]
    first = week_start(anchor) if days == 7 else anchor
    return [first + timedelta(days=i) for i in range(days)]


def few_left(capacity: int, booked: int) -> bool:
    """ "Dernières places": at most two, or a tenth of the capacity, left."""
    return capacity - booked <= max(2, capacity // 10)


@dataclass(frozen=True)
class _Reg:
    activity_id: str
    period_id: str
    group_id: str
    person_name: str


async def planning(
    session: AsyncSession, *, family_id: str, person_id: str, days: list[date], now: datetime
) -> Planning:
    """The person's planning over `days` (registrations of `family_id` only)."""
    first, last = days[0], days[-1]
    regs = [
        _Reg(*row)
        for row in (
            await session.execute(
                select(
                    Registration.activity_id,
                    Registration.period_id,
                    Registration.group_id,
                    Registration.person_name,
                ).where(
                    Registration.family_id == family_id,
                    Registration.person_id == person_id,
                    Registration.state == ACCEPTED,
                )
            )
        ).all()
    ]
    result = Planning(
        person_id=person_id,
        person_name=regs[0].person_name if regs else "",
        starts_on=first,
        ends_on=last,
        days=days,
        activities=[],
        legend=LEGEND,
    )
    if not regs:
        return result
    activity_ids = sorted({r.activity_id for r in regs})
    by_period = {r.period_id: r for r in regs}
    activities = (
        await session.execute(
            select(
                Activity.id,
                Activity.name,
                Activity.add_notice,
                Activity.cancel_notice,
                Activity.waiting_list,
            )
            .where(Activity.id.in_(activity_ids))
            .order_by(Activity.name)
        )
    ).all()
    units = (
        await session.execute(
            select(Unit.id, Unit.activity_id, Unit.code, Unit.label)
            .where(Unit.activity_id.in_(activity_ids))
            .order_by(Unit.starts_at, Unit.code)
        )
    ).all()
    periods = (
        await session.execute(
            select(Period.activity_id, Period.starts_on, Period.ends_on).where(
                Period.activity_id.in_(activity_ids),
                Period.starts_on <= last,
                Period.ends_on >= first,
            )
        )
    ).all()
    openings = (
        await session.execute(
            select(
                Opening.id,
                Opening.activity_id,
                Opening.period_id,
                Opening.group_id,
                Opening.unit_id,
                Opening.day,
                Opening.capacity,
                Opening.booked,
                Opening.closed,
            ).where(Opening.activity_id.in_(activity_ids), Opening.day.between(first, last))
        )
    ).all()
    reservations = (
        await session.execute(
            select(
                Reservation.id,
                Reservation.opening_id,
                Reservation.state,
                Reservation.attendance,
                Reservation.reason,
                Reservation.updated_at,
            )
            .where(
                Reservation.family_id == family_id,
                Reservation.person_id == person_id,
                Reservation.day.between(first, last),
                Reservation.state != RES_CANCELLED,
            )
            .order_by(Reservation.updated_at)
        )
    ).all()
    closures = {
        (a, d): reason or "fermeture"
        for a, d, reason in (
            await session.execute(
                select(Closure.activity_id, Closure.day, Closure.reason).where(
                    Closure.activity_id.in_(activity_ids), Closure.day.between(first, last)
                )
            )
        ).all()
    }
    # The latest row per opening wins, an active one over a refused one.
    booked: dict[str, tuple[str, str, str | None, str | None]] = {}
    for rid, opening_id, state, attendance, reason, _ in reservations:
        if opening_id in booked and booked[opening_id][1] != RES_REFUSED:
            continue
        booked[opening_id] = (rid, state, attendance, reason)
    cells_openings: dict[tuple[str, str, date], list[Any]] = {}
    for row in openings:
        cells_openings.setdefault((row[1], row[4], row[5]), []).append(row)
    for activity_id, name, add_notice, cancel_notice, waiting_list in activities:
        add_rule, cancel_rule = parse_rule(add_notice), parse_rule(cancel_notice)
        rows: list[PlanningRow] = []
        for unit_id, unit_activity, code, label in units:
            if unit_activity != activity_id:
                continue
            cells = []
            for day in days:
                candidates = cells_openings.get((activity_id, unit_id, day), [])
                opening = next(
                    (
                        o
                        for o in candidates
                        if o[2] in by_period and by_period[o[2]].group_id == o[3]
                    ),
                    None,
                )
                in_period = any(a == activity_id and s <= day <= e for a, s, e in periods)
                cells.append(
                    _cell(
                        day=day,
                        opening=opening,
                        any_opening=bool(candidates),
                        in_period=in_period,
                        booked=booked,
                        now=now,
                        add_rule=add_rule,
                        cancel_rule=cancel_rule,
                        waiting_list=waiting_list,
                        closure=closures.get((activity_id, day)),
                    )
                )
            rows.append(PlanningRow(unit_code=code, unit_label=label, cells=cells))
        result.activities.append(
            PlanningActivity(
                activity_id=activity_id,
                activity_name=name,
                add_rule=describe_rule(add_rule),
                cancel_rule=describe_rule(cancel_rule),
                rows=rows,
            )
        )
    return result


def _cell(
    *,
    day: date,
    opening: tuple | None,  # type: ignore[type-arg]
    any_opening: bool,
    in_period: bool,
    booked: dict[str, tuple[str, str, str | None, str | None]],
    now: datetime,
    add_rule: object,
    cancel_rule: object,
    waiting_list: bool,
    closure: str | None,
) -> Cell:
    if opening is None:
        if any_opening:
            return Cell(
                day=day,
                state="non_inscrit",
                label="non inscrit",
                kind="possible",
                locked_reason="Pas d'inscription acceptée pour ce jour.",
            )
        if closure or public_holiday(day):
            why = closure or f"jour férié ({public_holiday(day)})"
            return Cell(
                day=day,
                state="ferme",
                label="fermé",
                kind="possible",
                locked_reason=f"Fermé : {why}.",
            )
        if in_period:
            return Cell(
                day=day,
                state="ferme",
                label="fermé",
                kind="possible",
                locked_reason="Pas d'accueil ce jour-là.",
            )
        return Cell(
            day=day,
            state="hors_periode",
            label="hors période",
            kind="possible",
            locked_reason="En dehors des périodes de l'activité.",
        )
    opening_id, capacity, taken, closed = opening[0], opening[6], opening[7], opening[8]
    if opening_id in booked:
        rid, state, attendance, reason = booked[opening_id]
        cancel_limit = deadline(cancel_rule, day)  # type: ignore[arg-type]
        label = BOOKED_LABELS[state]
        shown = state
        if attendance:
            shown, label = attendance, ATTENDANCE_LABELS[attendance]
        cancellable = state != RES_REFUSED and attendance is None and now < cancel_limit
        locked = None
        if state == RES_REFUSED:
            locked = f"Refusé : {reason}." if reason else "Refusé."
        elif attendance:
            locked = "La présence a été relevée."
        elif not cancellable:
            locked = f"Hors délai : annulable jusqu'au {describe_deadline(cancel_limit)}."
        return Cell(
            day=day,
            opening_id=opening_id,
            reservation_id=rid,
            state=shown,
            label=label,
            kind="booked",
            cancellable=cancellable,
            locked_reason=locked,
            modifiable_until=describe_deadline(cancel_limit) if cancellable else None,
        )
    if closed or closure:
        return Cell(
            day=day,
            opening_id=opening_id,
            state="ferme",
            label="fermé",
            kind="possible",
            locked_reason=f"Fermé : {closure or 'fermeture'}.",
        )
    add_limit = deadline(add_rule, day)  # type: ignore[arg-type]
    if now >= add_limit:
        return Cell(
            day=day,
            opening_id=opening_id,
            state="hors_delai",
            label="hors délai",
            kind="possible",
            locked_reason=f"Hors délai : réservable jusqu'au {describe_deadline(add_limit)}.",
        )
    remaining = capacity - taken
    until = describe_deadline(add_limit)
    if remaining <= 0:
        return Cell(
            day=day,
            opening_id=opening_id,
            state="complet",
            label="complet",
            kind="possible",
            bookable=waiting_list,
            remaining=0,
            modifiable_until=until if waiting_list else None,
            locked_reason=None if waiting_list else "Complet.",
        )
    state, label = (
        ("dernieres_places", "dernières places")
        if few_left(capacity, taken)
        else ("disponible", "disponible")
    )
    return Cell(
        day=day,
        opening_id=opening_id,
        state=state,
        label=label,
        kind="possible",
        bookable=True,
        remaining=remaining,
        modifiable_until=until,
    )
