"""The planning grid of one person: a row per unit, a cell per day, each cell's state and why.

Read with one statement on PostgreSQL, two on the embedded database, whatever the range (the
registrations with their activities and units; the openings with the person's reservations,
periods and closures), never one per cell. The states are those of the legend:
possible (fermé, hors période, non inscrit, hors délai, incompatible, disponible, dernières
places, complet) and booked (demande en attente, réservé, en liste d'attente, refusé, présent,
absent justifié, absent non justifié).
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Boolean, Date, bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection

from .incompatibilities import both_ways
from .models import CONFIRMED, RES_REFUSED, RES_REQUESTED, RESERVATION_ACTIVE, WAITING
from .notice_rules import deadline, describe_deadline, describe_rule, parse_rule
from .schemas_reservations import (
    ATTENDANCE_LABELS,
    Cell,
    LegendEntry,
    Planning,
    PlanningActivity,
    PlanningRow,
)
from .types import UtcDateTime
from .workdays import public_holiday

LEGEND = [
    LegendEntry(state="disponible", label="disponible", kind="possible"),
    LegendEntry(state="dernieres_places", label="dernières places", kind="possible"),
    LegendEntry(state="complet", label="complet", kind="possible"),
    LegendEntry(state="hors_delai", label="hors délai", kind="possible"),
    LegendEntry(
        state="incompatible", label="incompatible avec une unité prise ce jour-là", kind="possible"
    ),
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
    """The days shown: a week from Monday, or a whole month, or `days` from `starts_on`.

    Without `starts_on`, the town's week — but on Saturday and Sunday the coming one: the
    current week has no day left to book, and the weekend is when families plan the next.
    """
    anchor = starts_on or today
    if starts_on is None and view == "week" and days == 7 and today.weekday() >= 5:
        anchor = week_start(today) + timedelta(days=7)
    if view == "month":
        first = anchor.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return [first + timedelta(days=i) for i in range((following - first).days)]
    first = week_start(anchor) if days == 7 else anchor
    return [first + timedelta(days=i) for i in range(days)]


def few_left(capacity: int, booked: int) -> bool:
    """ "Dernières places": at most two, or a tenth of the capacity, left."""
    return capacity - booked <= max(2, capacity // 10)


# The person's accepted registrations with their activity and its units: one row per
# (registration, unit), the activity's columns repeated (a handful of rows).
_REGISTERED_SQL = """
        SELECT r.activity_id, r.period_id, r.group_id, r.person_name,
               a.name, a.add_notice, a.cancel_notice, a.waiting_list,
               u.id AS unit_id, u.code, u.label, u.excludes, u.starts_at
        FROM registrations r
        JOIN activities a ON a.id = r.activity_id
        LEFT JOIN units u ON u.activity_id = r.activity_id
        WHERE r.family_id = :family_id AND r.person_id = :person_id AND r.state = 'accepted'
"""
_REGISTERED = text(_REGISTERED_SQL + " ORDER BY a.name, u.starts_at, u.code").columns(
    add_notice=JSON, cancel_notice=JSON, waiting_list=Boolean, excludes=JSON
)
# Everything dated in the range for those activities, in one statement, four kinds of rows
# sharing one shape (`kind` says which; the other kinds' columns are NULL):
# - `opening`: an opening of the person's group, with the person's reservation on it, if any;
# - `any`: an (activity, unit, day) with an opening for some group ("non inscrit" when none
#   is the person's), so that other groups' openings are not sent one by one;
# - `period`: a period of the activity overlapping the range; `closure`: a closed day.
_MINE_SQL = """
        mine AS (
            SELECT activity_id, period_id, group_id FROM registrations
            WHERE family_id = :family_id AND person_id = :person_id AND state = 'accepted'
        )
"""
_DATED_SQL = """
        SELECT 'opening' AS kind, o.activity_id, o.day, CAST(NULL AS DATE) AS ends_on, o.unit_id,
               o.id AS opening_id, o.capacity, o.booked, o.closed,
               res.id AS reservation_id, res.state, res.attendance, res.reason, res.updated_at
        FROM openings o
        JOIN mine ON mine.period_id = o.period_id AND mine.group_id = o.group_id
        LEFT JOIN reservations res
          ON res.opening_id = o.id AND res.family_id = :family_id
         AND res.person_id = :person_id AND res.state <> 'cancelled'
        WHERE o.day BETWEEN :first AND :last
        UNION ALL
        SELECT 'any', cell.activity_id, cell.day, NULL, cell.unit_id, NULL, NULL, NULL, NULL,
               NULL, NULL, NULL, NULL, NULL
        FROM (SELECT DISTINCT activity_id, day, unit_id FROM openings
              WHERE activity_id IN (SELECT activity_id FROM mine)
                AND day BETWEEN :first AND :last) cell
        UNION ALL
        SELECT 'period', p.activity_id, p.starts_on, p.ends_on, NULL, NULL, NULL, NULL, NULL,
               NULL, NULL, NULL, NULL, NULL
        FROM periods p
        WHERE p.activity_id IN (SELECT activity_id FROM mine)
          AND p.starts_on <= :last AND p.ends_on >= :first
        UNION ALL
        SELECT 'closure', c.activity_id, c.day, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
               NULL, c.reason, NULL
        FROM closures c
        WHERE c.activity_id IN (SELECT activity_id FROM mine) AND c.day BETWEEN :first AND :last
"""
_DATED = (
    text("WITH " + _MINE_SQL + _DATED_SQL)
    .bindparams(bindparam("first", type_=Date), bindparam("last", type_=Date))
    .columns(day=Date, ends_on=Date, closed=Boolean, updated_at=UtcDateTime)
)
# On PostgreSQL both in one statement (one round trip instead of two): each part as a JSON
# array of positional rows, read back into rows of the same names as the two statements'.
_PLANNING = (
    text(
        "WITH "  # noqa: S608 (constant SQL parts of this module; values are bound)
        + _MINE_SQL
        + ", reg AS ("
        + _REGISTERED_SQL
        + "), dated AS ("
        + _DATED_SQL
        + """)
        SELECT
            (SELECT json_agg(json_build_array(
                activity_id, period_id, group_id, person_name, name, add_notice,
                cancel_notice, waiting_list, unit_id, code, label, excludes)
                ORDER BY name, starts_at, code)
             FROM reg) AS registered,
            (SELECT json_agg(json_build_array(
                kind, activity_id, day, ends_on, unit_id, opening_id, capacity, booked, closed,
                reservation_id, state, attendance, reason, updated_at))
             FROM dated) AS dated
        """
    )
    .bindparams(bindparam("first", type_=Date), bindparam("last", type_=Date))
    .columns(registered=JSON, dated=JSON)
)
_Registered = namedtuple(
    "_Registered",
    "activity_id period_id group_id person_name name add_notice cancel_notice waiting_list "
    "unit_id code label excludes",
)
_Dated = namedtuple(
    "_Dated",
    "kind activity_id day ends_on unit_id opening_id capacity booked closed reservation_id "
    "state attendance reason updated_at",
)


def _dated(item: list[Any]) -> _Dated:
    """A row of `_PLANNING`'s `dated` (dates and instants as JSON strings) as `_DATED`'s."""
    row = _Dated(*item)
    return row._replace(
        day=date.fromisoformat(row.day),
        ends_on=date.fromisoformat(row.ends_on) if row.ends_on else None,
        updated_at=datetime.fromisoformat(row.updated_at).astimezone(UTC)
        if row.updated_at
        else None,
    )


async def _reads(
    connection: AsyncConnection, who: dict[str, str], first: date, last: date
) -> tuple[list[Any], list[Any]]:
    """The person's registrations (with activities and units) and the range's dated rows."""
    if connection.dialect.name == "postgresql":
        row = (await connection.execute(_PLANNING, {**who, "first": first, "last": last})).one()
        return (
            [_Registered(*item) for item in row.registered or ()],
            [_dated(item) for item in row.dated or ()],
        )
    registered = list((await connection.execute(_REGISTERED, who)).all())
    if not registered:
        return [], []
    dated = (await connection.execute(_DATED, {**who, "first": first, "last": last})).all()
    return registered, list(dated)


@dataclass(frozen=True)
class _Opening:
    id: str
    capacity: int
    booked: int
    closed: bool


@dataclass
class _Activity:
    id: str
    name: str
    add_notice: dict[str, Any] | None
    cancel_notice: dict[str, Any] | None
    waiting_list: bool
    units: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (code, label)
    excludes: dict[str, list[str]] = field(default_factory=dict)  # code -> codes it lists


async def planning(
    connection: AsyncConnection,
    *,
    family_id: str,
    person_id: str,
    days: list[date],
    now: datetime,
) -> Planning:
    """The person's planning over `days` (registrations of `family_id` only).

    One statement on PostgreSQL (two on SQLite) whatever the range, read with Core (no ORM
    objects on this hot path).
    """
    first, last = days[0], days[-1]
    who = {"family_id": family_id, "person_id": person_id}
    registered, dated = await _reads(connection, who, first, last)
    result = Planning(
        person_id=person_id,
        person_name=registered[0].person_name if registered else "",
        starts_on=first,
        ends_on=last,
        days=days,
        activities=[],
        legend=LEGEND,
    )
    if not registered:
        return result
    activities: dict[str, _Activity] = {}
    for row in registered:
        activity = activities.get(row.activity_id)
        if activity is None:
            activity = activities[row.activity_id] = _Activity(
                row.activity_id, row.name, row.add_notice, row.cancel_notice, row.waiting_list
            )
        if row.unit_id is not None:
            activity.units[row.unit_id] = (row.code, row.label)
            activity.excludes[row.code] = list(row.excludes or ())
    periods: list[tuple[str, date, date]] = []
    closures: dict[tuple[str, date], str] = {}
    mine: dict[tuple[str, str, date], _Opening] = {}  # the person's group's, per cell
    opened: set[tuple[str, str, date]] = set()  # cells with an opening for some group
    reservations: list[tuple[datetime, str, str, str, str | None, str | None]] = []
    for row in dated:
        if row.kind == "period":
            periods.append((row.activity_id, row.day, row.ends_on))
        elif row.kind == "closure":
            closures[(row.activity_id, row.day)] = row.reason or "fermeture"
        elif row.kind == "any":
            opened.add((row.activity_id, row.unit_id, row.day))
        else:
            mine.setdefault(
                (row.activity_id, row.unit_id, row.day),
                _Opening(row.opening_id, row.capacity, row.booked, bool(row.closed)),
            )
            if row.reservation_id is not None:
                reservations.append(
                    (
                        row.updated_at, row.opening_id, row.reservation_id, row.state,
                        row.attendance, row.reason,
                    )
                )  # fmt: skip
    # The latest row per opening wins, an active one over a refused one.
    booked: dict[str, tuple[str, str, str | None, str | None]] = {}
    for _, opening_id, rid, state, attendance, reason in sorted(reservations, key=_first):
        if opening_id in booked and booked[opening_id][1] != RES_REFUSED:
            continue
        booked[opening_id] = (rid, state, attendance, reason)
    # The units the person holds (booked, requested or waiting) per (activity, day).
    held: dict[tuple[str, date], list[tuple[str, str]]] = {}
    for (activity_id, unit_id, day), opening in mine.items():
        reservation = booked.get(opening.id)
        if reservation is not None and reservation[1] in RESERVATION_ACTIVE:
            held.setdefault((activity_id, day), []).append((unit_id, reservation[1]))
    for activity in activities.values():
        add_rule = parse_rule(activity.add_notice)
        cancel_rule = parse_rule(activity.cancel_notice)
        exclusions = both_ways(activity.excludes)
        rows: list[PlanningRow] = []
        for unit_id, (code, label) in activity.units.items():
            cells = []
            for day in days:
                cell = (activity.id, unit_id, day)
                in_period = any(a == activity.id and s <= day <= e for a, s, e in periods)
                clashes = [
                    (activity.units[other][1], state)
                    for other, state in held.get((activity.id, day), ())
                    if activity.units[other][0] in exclusions[code]
                ]
                cells.append(
                    _cell(
                        day=day,
                        opening=mine.get(cell),
                        any_opening=cell in opened,
                        in_period=in_period,
                        booked=booked,
                        now=now,
                        add_rule=add_rule,
                        cancel_rule=cancel_rule,
                        waiting_list=activity.waiting_list,
                        closure=closures.get((activity.id, day)),
                        clash=_incompatible(clashes) if clashes else None,
                    )
                )
            rows.append(
                PlanningRow(
                    unit_code=code,
                    unit_label=label,
                    excludes=sorted(exclusions[code]),
                    cells=cells,
                )
            )
        result.activities.append(
            PlanningActivity(
                activity_id=activity.id,
                activity_name=activity.name,
                add_rule=describe_rule(add_rule),
                cancel_rule=describe_rule(cancel_rule),
                rows=rows,
            )
        )
    return result


def _first(item: tuple[Any, ...]) -> Any:
    return item[0]


def _incompatible(clashes: list[tuple[str, str]]) -> str:
    """ "Incompatible avec « Journée » (réservé) ce jour-là." — units named by their label."""
    held = " et ".join(f"« {label} » ({BOOKED_LABELS[state]})" for label, state in clashes)
    return f"Incompatible avec {held} ce jour-là."


def _cell(
    *,
    day: date,
    opening: _Opening | None,
    any_opening: bool,
    in_period: bool,
    booked: dict[str, tuple[str, str, str | None, str | None]],
    now: datetime,
    add_rule: object,
    cancel_rule: object,
    waiting_list: bool,
    closure: str | None,
    clash: str | None = None,
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
    opening_id, capacity, taken, closed = (
        opening.id,
        opening.capacity,
        opening.booked,
        opening.closed,
    )
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
            # Past tense: the deadline is behind us when this is shown.
            locked = (
                "Hors délai : l'annulation était possible jusqu'au "
                f"{describe_deadline(cancel_limit)}."
            )
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
            locked_reason=(
                "Hors délai : la réservation était possible jusqu'au "
                f"{describe_deadline(add_limit)}."
            ),
        )
    if clash:
        # The save would refuse it (same rule, read both ways): not offered, and said why.
        return Cell(
            day=day,
            opening_id=opening_id,
            state="incompatible",
            label="incompatible",
            kind="possible",
            locked_reason=clash,
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
