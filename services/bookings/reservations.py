"""Reservations: a family's save of planning changes, checked on the server at commit time.

A save is a list of changes (book or cancel one person on one opening). **Each change is
applied or refused on its own, with its reason**; a save holds at most `MAX_CHANGES`
(beyond: 422, nothing checked). The steps, and why they are in this order:

1. everything the rules need is read at once, whatever the save's size: the openings with
   their activity, unit, period and closure; the persons' accepted registrations; their
   active reservations on those days with their units' exclusions; and the stored answer of
   the `Idempotency-Key` — one statement on PostgreSQL, up to four on the embedded database;
2. the rules are judged in memory: registration required (accepted, same group), period
   and closures, notice deadline (Europe/Paris, French holidays), unit incompatibilities
   (counting the save's own cancellations and bookings), twice the same cell;
3. documents are asked **once per save** for each (person, activity) still to be booked,
   all at once, outside any transaction;
4. one transaction for the whole save: the notice deadline is checked again with a fresh
   "now"; the bookings' rows are inserted in one statement with ON CONFLICT DO NOTHING on
   the active-reservation index (a double click books once); the events and the
   `Idempotency-Key` with its answer are written as if every booking got its place (on
   PostgreSQL, with the rows in one statement when the save only books); then,
   last before the commit, every opening's places are taken by one conditional UPDATE
   locking them in opening-id order (two saves lock openings in the same order and cannot
   deadlock), so that the locks concurrent saves wait on are held for one statement and
   the commit. A booking that found no place after all goes on the waiting list or is
   removed, its event and the stored answer corrected, in the same transaction. A
   cancellation gives its place to the first waiting request in the same transaction
   (`reservation.promoted`).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NoReturn

from sqlalchemy import JSON, String, and_, bindparam, delete, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.kit.columns import UtcDateTime
from services.kit.database import Database
from services.kit.outbox import add_event, event_message, events_written, record_event

from . import events
from .clock import Clock
from .config import BookingsSettings
from .errors import CheckUnavailable
from .incompatibilities import excluded
from .models import (
    ACCEPTED,
    CONFIRMED,
    RES_CANCELLED,
    RES_REFUSED,
    RES_REQUESTED,
    RESERVATION_ACTIVE,
    WAITING,
    Activity,
    Closure,
    IdempotencyRecord,
    Opening,
    OutboxMessage,
    Period,
    Registration,
    Reservation,
    Unit,
)
from .notice_rules import deadline, describe_deadline, parse_rule
from .places_openings import (
    first_waiting,
    give_back_opening_place,
    lock_openings,
    take_opening_places,
)
from .schemas_reservations import RESERVATION_LABELS, Change, ChangeResult, SaveResult
from .upstream import Completeness, Upstream

PLACE_HOLDING = (RES_REQUESTED, CONFIRMED)
_ACTIVE_WHERE = text("state IN ('requested', 'confirmed', 'waiting')")
DAY_FORMAT = "%d/%m/%Y"
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")

# Event types (past-tense facts), each written in the transaction of its change.
REQUESTED_EVENT = events.RESERVATION_REQUESTED
CONFIRMED_EVENT = events.RESERVATION_CONFIRMED
REFUSED_EVENT = events.RESERVATION_REFUSED
CANCELLED_EVENT = events.RESERVATION_CANCELLED
WAITLISTED_EVENT = events.RESERVATION_WAITLISTED
PROMOTED_EVENT = events.RESERVATION_PROMOTED
# Who gives a freed place to the first waiting request: nobody decides, the structure's
# software does (« un logiciel de la structure »), as an automatic validation's acceptance.
PROMOTION_ACTOR = {"by_role": "service"}


def say_day(day: date) -> str:
    """ "mercredi 21/04/2027"."""
    return f"{WEEKDAYS[day.weekday()]} {day.strftime(DAY_FORMAT)}"


@dataclass(frozen=True)
class OpeningInfo:
    """An opening with what the rules need of its activity, unit and period."""

    id: str
    activity_id: str
    period_id: str
    group_id: str
    unit_id: str
    day: date
    capacity: int
    booked: int
    closed: bool
    unit_code: str
    unit_label: str
    excludes: tuple[str, ...]
    activity_name: str
    validation: str
    waiting_list: bool
    documents_required: bool
    add_notice: dict[str, Any] | None
    cancel_notice: dict[str, Any] | None
    period_name: str


@dataclass(frozen=True)
class Current:
    """An active reservation already there."""

    id: str
    person_id: str
    opening_id: str
    activity_id: str
    day: date
    unit_code: str
    state: str
    attendance: str | None


@dataclass
class _Op:
    index: int
    change: Change
    info: OpeningInfo
    person_name: str
    current: Current | None = None


@dataclass
class _Plan:
    results: dict[int, ChangeResult] = field(default_factory=dict)
    ops: list[_Op] = field(default_factory=list)
    # Who saves (`Identity.acted`): in each event's data, the history's « Par ».
    actor: dict[str, str] = field(default_factory=dict)


def _insert_for(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def opening_columns() -> Any:
    """The SELECT of `OpeningInfo` (joined with unit, activity, period)."""
    return (
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
            Unit.code,
            Unit.label,
            Unit.excludes,
            Activity.name,
            Activity.validation,
            Activity.waiting_list,
            Activity.documents_required,
            Activity.add_notice,
            Activity.cancel_notice,
            Period.name,
        )
        .join(Unit, Unit.id == Opening.unit_id)
        .join(Activity, Activity.id == Opening.activity_id)
        .join(Period, Period.id == Opening.period_id)
    )


def opening_info(row: Any) -> OpeningInfo:
    """An `OpeningInfo` from a row of `opening_columns()`."""
    return OpeningInfo(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        row[6],
        row[7],
        row[8],
        row[9],
        row[10],
        tuple(row[11] or ()),
        row[12],
        row[13],
        row[14],
        row[15],
        row[16],
        row[17],
        row[18],
    )


# What a save's rules need, read with three prebuilt Core statements (no ORM objects): the
# openings with their activity, unit, period and closure; the persons' accepted
# registrations of this family; their active reservations on those days with each unit's
# exclusions (the only units whose exclusions the rules can ask for, with the openings' own).
_OPENINGS = (
    opening_columns()
    .add_columns(Closure.id.label("closure_id"), Closure.reason.label("closure_reason"))
    .outerjoin(
        Closure, and_(Closure.activity_id == Opening.activity_id, Closure.day == Opening.day)
    )
    .where(Opening.id.in_(bindparam("opening_ids", expanding=True)))
)
_REGISTRATIONS = select(
    Registration.person_id,
    Registration.activity_id,
    Registration.period_id,
    Registration.group_id,
    Registration.person_name,
).where(
    Registration.family_id == bindparam("family_id"),
    Registration.person_id.in_(bindparam("person_ids", expanding=True)),
    Registration.activity_id.in_(bindparam("activity_ids", expanding=True)),
    Registration.state == ACCEPTED,
)
_CURRENT = (
    select(
        Reservation.id,
        Reservation.person_id,
        Reservation.opening_id,
        Reservation.activity_id,
        Reservation.day,
        Unit.code,
        Reservation.state,
        Reservation.attendance,
        Unit.excludes,
        Unit.label,
    )
    .join(Unit, Unit.id == Reservation.unit_id)
    .where(
        Reservation.family_id == bindparam("family_id"),
        Reservation.person_id.in_(bindparam("person_ids", expanding=True)),
        Reservation.day.in_(bindparam("days", expanding=True)),
        Reservation.state.in_(RESERVATION_ACTIVE),
    )
)


@dataclass
class _Context:
    """Everything the rules need, keyed for the judge."""

    openings: dict[str, OpeningInfo] = field(default_factory=dict)
    registrations: dict[tuple[str, str, str], tuple[str, str]] = field(default_factory=dict)
    current: dict[tuple[str, str], Current] = field(default_factory=dict)
    closures: dict[tuple[str, date], str] = field(default_factory=dict)
    # (activity, unit code) -> the codes it excludes
    excludes: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    # (activity, unit code) -> the unit's label, for the refusals (never the code)
    labels: dict[tuple[str, str], str] = field(default_factory=dict)


async def _context(
    connection: AsyncConnection, *, family_id: str, changes: list[Change]
) -> _Context:
    context = _Context()
    rows = await connection.execute(
        _OPENINGS, {"opening_ids": sorted({c.opening_id for c in changes})}
    )
    for row in rows:
        info = opening_info(row)
        context.openings[info.id] = info
        context.excludes[(info.activity_id, info.unit_code)] = info.excludes
        context.labels[(info.activity_id, info.unit_code)] = info.unit_label
        if row.closure_id is not None:
            context.closures[(info.activity_id, info.day)] = row.closure_reason or "fermeture"
    openings = context.openings
    everything_full = all(
        c.action == "book" and c.opening_id in openings and _full_when_read(openings[c.opening_id])
        for c in changes
    )
    if not openings or everything_full:
        # Nothing else can change the answers: one query for the rush's refusals.
        return context
    who = {"family_id": family_id, "person_ids": sorted({c.person_id for c in changes})}
    activity_ids = sorted({o.activity_id for o in openings.values()})
    for reg in await connection.execute(_REGISTRATIONS, {**who, "activity_ids": activity_ids}):
        context.registrations[(reg.person_id, reg.activity_id, reg.period_id)] = (
            reg.group_id,
            reg.person_name,
        )
    days = sorted({o.day for o in openings.values()})
    for res in await connection.execute(_CURRENT, {**who, "days": days}):
        context.current[(res.person_id, res.opening_id)] = Current(
            res.id, res.person_id, res.opening_id, res.activity_id, res.day, res.code,
            res.state, res.attendance,
        )  # fmt: skip
        context.excludes[(res.activity_id, res.code)] = tuple(res.excludes or ())
        context.labels[(res.activity_id, res.code)] = res.label
    return context


# On PostgreSQL the same reads, and the stored answer of an Idempotency-Key, in one
# statement (one round trip instead of four): each part as a JSON array of positional rows.
# The persons' registrations and reservations are those of the openings' activities and days.
_SAVE_READS = (
    text(
        """
        WITH o AS (
            SELECT o.id, o.activity_id, o.period_id, o.group_id, o.unit_id, o.day, o.capacity,
                   o.booked, o.closed, u.code, u.label, u.excludes, a.name, a.validation,
                   a.waiting_list, a.documents_required, a.add_notice, a.cancel_notice,
                   p.name AS period_name, c.id AS closure_id, c.reason AS closure_reason
            FROM openings o
            JOIN units u ON u.id = o.unit_id
            JOIN activities a ON a.id = o.activity_id
            JOIN periods p ON p.id = o.period_id
            LEFT JOIN closures c ON c.activity_id = o.activity_id AND c.day = o.day
            WHERE o.id = ANY(:opening_ids)
        )
        SELECT
            (SELECT k.response FROM idempotency_keys k
             WHERE k.family_id = :family_id AND k.key = :key) AS answer,
            (SELECT json_agg(json_build_array(
                o.id, o.activity_id, o.period_id, o.group_id, o.unit_id, o.day, o.capacity,
                o.booked, o.closed, o.code, o.label, o.excludes, o.name, o.validation,
                o.waiting_list, o.documents_required, o.add_notice, o.cancel_notice,
                o.period_name, o.closure_id, o.closure_reason))
             FROM o) AS openings,
            (SELECT json_agg(json_build_array(
                r.person_id, r.activity_id, r.period_id, r.group_id, r.person_name))
             FROM registrations r
             WHERE r.family_id = :family_id AND r.person_id = ANY(:person_ids)
               AND r.activity_id IN (SELECT activity_id FROM o) AND r.state = 'accepted'
            ) AS registrations,
            (SELECT json_agg(json_build_array(
                res.id, res.person_id, res.opening_id, res.activity_id, res.day, u.code,
                res.state, res.attendance, u.excludes, u.label))
             FROM reservations res JOIN units u ON u.id = res.unit_id
             WHERE res.family_id = :family_id AND res.person_id = ANY(:person_ids)
               AND res.day IN (SELECT day FROM o)
               AND res.state IN ('requested', 'confirmed', 'waiting')
            ) AS current
        """
    )
    .bindparams(
        bindparam("opening_ids", type_=ARRAY(String)),
        bindparam("person_ids", type_=ARRAY(String)),
        bindparam("family_id", type_=String),
        bindparam("key", type_=String),
    )
    .columns(answer=JSON, openings=JSON, registrations=JSON, current=JSON)
)


async def _save_reads(
    connection: AsyncConnection, *, family_id: str, changes: list[Change], key: str | None
) -> tuple[dict[str, Any] | None, _Context]:
    """The stored answer of `key` (None without one, or when its save has not finished) and
    what the rules need: one statement on PostgreSQL, up to four on the embedded database."""
    if connection.dialect.name != "postgresql":
        stored = None
        if key is not None:
            stored = await _stored_answer(connection, family_id=family_id, key=key)
        return stored, await _context(connection, family_id=family_id, changes=changes)
    row = (
        await connection.execute(
            _SAVE_READS,
            {
                "opening_ids": sorted({c.opening_id for c in changes}),
                "person_ids": sorted({c.person_id for c in changes}),
                "family_id": family_id,
                "key": key,
            },
        )
    ).one()
    context = _Context()
    for item in row.openings or ():
        item[5] = date.fromisoformat(item[5])
        info = opening_info(item)
        context.openings[info.id] = info
        context.excludes[(info.activity_id, info.unit_code)] = info.excludes
        context.labels[(info.activity_id, info.unit_code)] = info.unit_label
        if item[19] is not None:
            context.closures[(info.activity_id, info.day)] = item[20] or "fermeture"
    for person_id, activity_id, period_id, group_id, person_name in row.registrations or ():
        context.registrations[(person_id, activity_id, period_id)] = (group_id, person_name)
    for rid, person_id, opening_id, activity_id, day, code, state, attendance, excl, label in (
        row.current or ()
    ):
        context.current[(person_id, opening_id)] = Current(
            rid, person_id, opening_id, activity_id, date.fromisoformat(day), code, state,
            attendance,
        )  # fmt: skip
        context.excludes[(activity_id, code)] = tuple(excl or ())
        context.labels[(activity_id, code)] = label
    return row.answer or None, context


def _refused(
    change: Change, code: str, reason: str, info: OpeningInfo | None = None
) -> ChangeResult:
    return ChangeResult(
        person_id=change.person_id,
        opening_id=change.opening_id,
        action=change.action,
        ok=False,
        label=f"refusé : {reason}",
        reason=reason,
        code=code,
        day=info.day if info else None,
        unit_label=info.unit_label if info else None,
        activity_name=info.activity_name if info else None,
    )


def _full_when_read(info: OpeningInfo) -> bool:
    return info.booked >= info.capacity and not info.waiting_list


def _full(change: Change, info: OpeningInfo) -> ChangeResult:
    return _refused(
        change, "full", f"complet : plus de place le {say_day(info.day)} ({info.unit_label})", info
    )


def _late(info: OpeningInfo, rule: dict[str, Any] | None, now: datetime, verb: str) -> str | None:
    limit = deadline(parse_rule(rule), info.day)
    if now < limit:
        return None
    return (
        f"hors délai : le {say_day(info.day)} ({info.unit_label}) pouvait être {verb} "
        f"jusqu'au {describe_deadline(limit)}"
    )


def judge(*, changes: list[Change], now: datetime, context: _Context) -> _Plan:
    """Judge every change against the rules that need no other service."""
    openings, registrations, current = context.openings, context.registrations, context.current
    closures, excludes, labels = context.closures, context.excludes, context.labels
    plan = _Plan()
    seen: set[tuple[str, str]] = set()
    # Units each person holds per (activity, day), as the save goes: cancellations first.
    held: dict[tuple[str, str, date], set[str]] = {}
    for c in current.values():
        held.setdefault((c.person_id, c.activity_id, c.day), set()).add(c.unit_code)
    order = sorted(range(len(changes)), key=lambda i: changes[i].action != "cancel")
    for index in order:
        change = changes[index]
        info = openings.get(change.opening_id)
        key = (change.person_id, change.opening_id)
        if info is None:
            plan.results[index] = _refused(change, "unknown-opening", "ouverture inconnue")
            continue
        if key in seen:
            plan.results[index] = _refused(
                change, "duplicate", "la même case figure deux fois dans l'enregistrement", info
            )
            continue
        seen.add(key)
        if change.action == "book" and _full_when_read(info):
            # Full when read: answered first and at once, without documents or a transaction
            # (the opening-day rush is mostly these; an opening full for everyone tells a
            # stranger nothing). A place freed since goes to the next save.
            plan.results[index] = _full(change, info)
            continue
        registration = registrations.get((change.person_id, info.activity_id, info.period_id))
        if registration is None or registration[0] != info.group_id:
            plan.results[index] = _refused(
                change,
                "not-registered",
                f"pas d'inscription acceptée à « {info.activity_name} » pour "
                f"« {info.period_name} » dans ce groupe",
                info,
            )
            continue
        name = registration[1]
        existing = current.get(key)
        units = held.setdefault((change.person_id, info.activity_id, info.day), set())
        if change.action == "cancel":
            if existing is None:
                plan.results[index] = _refused(
                    change, "nothing-to-cancel", "aucune réservation à annuler sur cette case", info
                )
                continue
            if existing.attendance is not None:
                plan.results[index] = _refused(
                    change, "attendance-taken", "la présence a déjà été relevée", info
                )
                continue
            late = _late(info, info.cancel_notice, now, "annulé")
            if late:
                plan.results[index] = _refused(change, "past-deadline", late, info)
                continue
            units.discard(info.unit_code)
            plan.ops.append(_Op(index, change, info, name, existing))
            continue
        if existing is not None:
            plan.results[index] = _refused(
                change, "already-booked", f"déjà {RESERVATION_LABELS[existing.state]}", info
            )
            continue
        closure = closures.get((info.activity_id, info.day))
        if info.closed or closure:
            why = f" ({closure})" if closure else ""
            plan.results[index] = _refused(
                change,
                "closed",
                f"« {info.activity_name} » est fermé le {say_day(info.day)}{why}",
                info,
            )
            continue
        late = _late(info, info.add_notice, now, "réservé")
        if late:
            plan.results[index] = _refused(change, "past-deadline", late, info)
            continue
        clash = next(
            (
                u
                for u in sorted(units)
                if excluded(
                    info.unit_code, info.excludes, u, excludes.get((info.activity_id, u), ())
                )
            ),
            None,
        )
        if clash is not None:
            plan.results[index] = _refused(
                change,
                "incompatible",
                f"« {info.unit_label} » ne peut pas être réservé le même jour que "
                f"« {labels.get((info.activity_id, clash), clash)} »",
                info,
            )
            continue
        units.add(info.unit_code)
        plan.ops.append(_Op(index, change, info, name))
    return plan


async def _check_documents(plan: _Plan, *, upstream: Upstream | None, family_id: str) -> None:
    """Ask documents once per (person, activity) still to book, all at once."""
    wanted = sorted(
        {
            (op.change.person_id, op.info.activity_id)
            for op in plan.ops
            if op.change.action == "book" and op.info.documents_required
        }
    )
    if not wanted or upstream is None:
        return
    answers = await asyncio.gather(
        *(
            upstream.completeness(family_id=family_id, person_id=p, activity_id=a)
            for p, a in wanted
        ),
        return_exceptions=True,
    )
    verdicts: dict[tuple[str, str], Completeness | BaseException] = dict(
        zip(wanted, answers, strict=True)
    )
    kept: list[_Op] = []
    for op in plan.ops:
        verdict = verdicts.get((op.change.person_id, op.info.activity_id))
        if op.change.action == "cancel" or verdict is None:
            kept.append(op)
        elif isinstance(verdict, CheckUnavailable):
            plan.results[op.index] = _refused(
                op.change,
                "check-unavailable",
                "vérification des documents impossible pour le moment ; réessayez plus tard",
                op.info,
            )
        elif isinstance(verdict, BaseException):
            raise verdict
        elif not verdict.complete:
            missing = ", ".join(verdict.missing) or "documents obligatoires"
            plan.results[op.index] = _refused(
                op.change,
                "documents-missing",
                f"documents manquants pour {op.person_name} : {missing}",
                op.info,
            )
        else:
            kept.append(op)
    plan.ops = kept


def _event_data(
    *,
    reservation_id: str,
    family_id: str,
    person_id: str,
    person_name: str,
    info: OpeningInfo,
    state: str,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "reservation_id": reservation_id,
        "family_id": family_id,
        "person_id": person_id,
        "person_name": person_name,
        "activity_id": info.activity_id,
        "activity_name": info.activity_name,
        "opening_id": info.id,
        "date": info.day.isoformat(),
        "unit": info.unit_code,
        "unit_name": info.unit_label,
        "state": state,
        **extra,
    }


def record(
    session: AsyncSession, event_type: str, family_id: str, data: dict[str, Any]
) -> dict[str, Any]:
    """Write a reservation event in the caller's transaction; returns the message."""
    return record_event(
        session,
        OutboxMessage,
        source=BookingsSettings.service_name,
        event_type=event_type,
        data=data,
        family_id=family_id,
    )


def _applied(op: _Op, state: str, reservation_id: str, label: str | None = None) -> ChangeResult:
    return ChangeResult(
        person_id=op.change.person_id,
        opening_id=op.change.opening_id,
        action=op.change.action,
        ok=True,
        state=state,
        label=label or RESERVATION_LABELS[state],
        reservation_id=reservation_id,
        day=op.info.day,
        unit_label=op.info.unit_label,
        activity_name=op.info.activity_name,
    )


_EVENT_OF_STATE = {
    CONFIRMED: CONFIRMED_EVENT,
    RES_REQUESTED: REQUESTED_EVENT,
    WAITING: WAITLISTED_EVENT,
}
_LABEL_OF_STATE = {
    WAITING: "en liste d'attente (complet : vous serez prévenu si une place se libère)",
    RES_REQUESTED: "demande en attente (validation par la structure)",
}


def _booked_state(op: _Op) -> str:
    return CONFIRMED if op.info.validation == "automatic" else RES_REQUESTED


def _booking_rows(
    ops: list[_Op], ids: dict[int, str], *, family_id: str, now: datetime, by: str
) -> list[dict[str, Any]]:
    return [
        {
            "id": ids[op.index],
            "family_id": family_id,
            "person_id": op.change.person_id,
            "person_name": op.person_name,
            "activity_id": op.info.activity_id,
            "opening_id": op.info.id,
            "day": op.info.day,
            "unit_id": op.info.unit_id,
            "state": _booked_state(op),
            "holds_place": True,
            "changed_by": by,
            "created_at": now,
            "updated_at": now,
            "arrival": time.time_ns(),  # waiting-list order
        }
        for op in ops
    ]


async def _insert_bookings(
    session: AsyncSession, ops: list[_Op], *, family_id: str, now: datetime, by: str
) -> dict[int, str]:
    """Insert every booking's row in one statement; op index -> id of the rows inserted.

    ON CONFLICT DO NOTHING on the active-reservation index: a row a concurrent twin (a double
    click in two tabs) inserted first is left out, and that change is « déjà réservé ».
    """
    ids = {op.index: str(uuid.uuid4()) for op in ops}
    rows = _booking_rows(ops, ids, family_id=family_id, now=now, by=by)
    # On the table, not the mapped class: the ORM's DML preparation is not needed here.
    table = Reservation.__table__
    statement = (
        _insert_for(session)(table)
        .on_conflict_do_nothing(
            index_elements=["person_id", "opening_id"], index_where=_ACTIVE_WHERE
        )
        .returning(table.c.id)
    )
    # Executed with a list of rows: SQLAlchemy's "insertmanyvalues" sends one multi-row
    # INSERT from a statement compiled once (`.values(rows)` was compiled anew each save).
    connection = await session.connection()
    inserted = set((await connection.execute(statement, rows)).scalars())
    return {index: rid for index, rid in ids.items() if rid in inserted}


async def _apply(
    session: AsyncSession,
    plan: _Plan,
    *,
    family_id: str,
    now: datetime,
    by: str,
    count: int,
    key: str | None,
) -> SaveResult:
    """Apply the judged changes in the save's transaction; each result goes in `plan`.

    The bookings' rows go in first, in one INSERT; cancellations follow (each gives its place
    to the first waiting request). A save that only books does this and the next step in
    one statement on PostgreSQL (`_BOOK`). Then everything is written as if every booking got its
    place: the events and the answer under the `Idempotency-Key` (claimed here: a twin
    holding the same key waits on this INSERT, then replays the first answer), in one
    statement on PostgreSQL.
    Only then are every opening's places taken at once, in opening id order
    (`take_opening_places`): the openings' row locks, the ones concurrent saves of the same
    school (and every save of a rush) wait on, are held from that statement to the commit
    alone, with no other statement and no Python work in between. When an opening had fewer
    places left than wanted (rare outside a rush), the bookings left out are put on the
    waiting list or removed, and their events and the stored answer corrected, in the same
    transaction. A save with cancellations first locks all its openings in id order, so that
    its cancellations and bookings cannot lock them in another order than a concurrent save.
    """
    ops = sorted(plan.ops, key=lambda o: (o.info.id, o.change.action != "cancel"))
    bookings: list[_Op] = []
    cancellations: list[_Op] = []
    for op in ops:
        late = op.change.action == "book" and _late(op.info, op.info.add_notice, now, "réservé")
        if late:  # checked again with the transaction's "now"
            plan.results[op.index] = _refused(op.change, "past-deadline", late, op.info)
        else:
            (bookings if op.change.action == "book" else cancellations).append(op)
    if bookings and not cancellations and session.get_bind().dialect.name == "postgresql":
        inserted, events = await _book_in_one_statement(
            session, plan, bookings, family_id=family_id, now=now, by=by, count=count, key=key
        )
        booked = [op for op in bookings if op.index in inserted]
        summary = _summary(plan, count)
        if key is not None and len(booked) < len(bookings):  # twins were first: corrected
            await _store_answer(session, family_id=family_id, key=key, answer=summary)
    else:
        inserted = (
            await _insert_bookings(session, bookings, family_id=family_id, now=now, by=by)
            if bookings
            else {}
        )
        if cancellations:
            await lock_openings(session, sorted({op.info.id for op in ops}))
        for op in cancellations:
            plan.results[op.index] = await _cancel(
                session, op, family_id=family_id, now=now, actor=plan.actor
            )
        booked = [op for op in bookings if op.index in inserted]
        _refuse_twins(plan, bookings, inserted)
        messages = [  # in opening-id order, then in the save's order
            _booking_event(plan, op, family_id, inserted[op.index], _booked_state(op))
            for op in booked
        ]
        events = {op.index: message["id"] for op, message in zip(booked, messages, strict=True)}
        summary = _summary(plan, count)
        await _write_events_and_key(
            session, messages, family_id=family_id, key=key, now=now, answer=summary
        )
    if not booked:
        return summary
    left = await take_opening_places(session, Counter(op.info.id for op in booked))
    short: list[_Op] = []
    for op in booked:  # the first ones in this order get the places left
        if left.get(op.info.id, 0) > 0:
            left[op.info.id] -= 1
        else:
            short.append(op)
    if not short:
        return summary
    await _left_out(session, plan, short, inserted=inserted, events=events, family_id=family_id)
    summary = _summary(plan, count)
    if key is not None:
        await _store_answer(session, family_id=family_id, key=key, answer=summary)
    return summary


def _refuse_twins(plan: _Plan, bookings: list[_Op], inserted: dict[int, str]) -> None:
    for op in bookings:
        if op.index not in inserted:  # a concurrent twin inserted it first
            plan.results[op.index] = _refused(op.change, "already-booked", "déjà réservé", op.info)


async def _store_answer(
    session: AsyncSession, *, family_id: str, key: str, answer: SaveResult
) -> None:
    """Correct the answer stored under the key (claimed with an earlier one)."""
    await session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.family_id == family_id, IdempotencyRecord.key == key)
        .values(response=answer.model_dump(mode="json"))
        .execution_options(synchronize_session=False)
    )


# A save of bookings alone, on PostgreSQL: the rows (ON CONFLICT DO NOTHING on the active
# index, as `_insert_bookings`), the events of the rows that went in, and the key with the
# answer written as if all went in — one statement, one round trip. Rows and events come
# as JSON arrays, so the statement is the same whatever the save's size.
_BOOK = text(
    """
    WITH booked AS (
        INSERT INTO reservations (id, family_id, person_id, person_name, activity_id,
                                  opening_id, day, unit_id, state, holds_place, changed_by,
                                  created_at, updated_at, arrival)
        SELECT id, family_id, person_id, person_name, activity_id, opening_id, day, unit_id,
               state, holds_place, changed_by, created_at, updated_at, arrival
        FROM json_populate_recordset(NULL::reservations, CAST(:rows AS json))
        ON CONFLICT (person_id, opening_id)
            WHERE state IN ('requested', 'confirmed', 'waiting') DO NOTHING
        RETURNING id
    ), events AS (
        INSERT INTO outbox_messages (id, event_type, message, occurred_at, publish_count)
        SELECT m ->> 'id', m ->> 'type', m, CAST(m ->> 'occurred_at' AS timestamptz), 0
        FROM json_array_elements(CAST(:messages AS json)) AS m
        WHERE m -> 'data' ->> 'reservation_id' IN (SELECT id FROM booked)
    ), claimed AS (
        INSERT INTO idempotency_keys (family_id, key, created_at, response)
        SELECT CAST(:family_id AS varchar), CAST(:key AS varchar),
               CAST(:created_at AS timestamptz), CAST(:response AS json)
        WHERE CAST(:key AS varchar) IS NOT NULL
        ON CONFLICT (family_id, key) DO NOTHING
        RETURNING key
    )
    SELECT ARRAY(SELECT id FROM booked) AS inserted,
           CAST(:key AS varchar) IS NULL OR EXISTS (SELECT 1 FROM claimed) AS claimed
    """
).bindparams(bindparam("created_at", type_=UtcDateTime()))


async def _book_in_one_statement(
    session: AsyncSession,
    plan: _Plan,
    bookings: list[_Op],
    *,
    family_id: str,
    now: datetime,
    by: str,
    count: int,
    key: str | None,
) -> tuple[dict[int, str], dict[int, str]]:
    """`_BOOK`; (op index -> id of the rows inserted, op index -> id of their event)."""
    ids = {op.index: str(uuid.uuid4()) for op in bookings}
    rows = _booking_rows(bookings, ids, family_id=family_id, now=now, by=by)
    messages = [  # in opening-id order, then in the save's order
        _booking_event(plan, op, family_id, ids[op.index], _booked_state(op)) for op in bookings
    ]
    answer = _summary(plan, count)
    connection = await session.connection()
    result = (
        await connection.execute(
            _BOOK,
            {
                "rows": json.dumps(rows, default=_iso),
                "messages": json.dumps(messages),
                "family_id": family_id,
                "key": key,
                "created_at": now,
                "response": json.dumps(answer.model_dump(mode="json")),
            },
        )
    ).one()
    if not result.claimed:
        await _replay_stored(session, family_id=family_id, key=str(key))
    went_in = set(result.inserted)
    inserted = {index: rid for index, rid in ids.items() if rid in went_in}
    _refuse_twins(plan, bookings, inserted)
    if inserted:
        events_written(session)
    events = {
        op.index: message["id"]
        for op, message in zip(bookings, messages, strict=True)
        if op.index in inserted
    }
    return inserted, events


def _iso(value: Any) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _booking_event(
    plan: _Plan, op: _Op, family_id: str, reservation_id: str, state: str
) -> dict[str, Any]:
    """The booking's result in `state` (in `plan`), and its event's message."""
    data = _event_data(
        reservation_id=reservation_id,
        family_id=family_id,
        person_id=op.change.person_id,
        person_name=op.person_name,
        info=op.info,
        state=state,
        **plan.actor,
    )
    plan.results[op.index] = _applied(op, state, reservation_id, _LABEL_OF_STATE.get(state))
    return event_message(
        source=BookingsSettings.service_name,
        event_type=_EVENT_OF_STATE[state],
        data=data,
        family_id=family_id,
    )


# The bookings' events and the Idempotency-Key with its answer, in one statement on
# PostgreSQL (one round trip fewer per save); the events come as one JSON array, so the
# statement is the same whatever their number.
_INSERT_EVENTS = text(
    """
    INSERT INTO outbox_messages (id, event_type, message, occurred_at, publish_count)
    SELECT m ->> 'id', m ->> 'type', m, CAST(m ->> 'occurred_at' AS timestamptz), 0
    FROM json_array_elements(CAST(:messages AS json)) AS m
    """
)
_INSERT_EVENTS_AND_KEY = text(
    """
    WITH events AS (
        INSERT INTO outbox_messages (id, event_type, message, occurred_at, publish_count)
        SELECT m ->> 'id', m ->> 'type', m, CAST(m ->> 'occurred_at' AS timestamptz), 0
        FROM json_array_elements(CAST(:messages AS json)) AS m
    )
    INSERT INTO idempotency_keys (family_id, key, created_at, response)
    VALUES (:family_id, :key, :created_at, CAST(:response AS json))
    ON CONFLICT (family_id, key) DO NOTHING
    RETURNING key
    """
).bindparams(bindparam("created_at", type_=UtcDateTime()))


async def _write_events_and_key(
    session: AsyncSession,
    messages: list[dict[str, Any]],
    *,
    family_id: str,
    key: str | None,
    now: datetime,
    answer: SaveResult,
) -> None:
    """Write the bookings' events and claim the key with its answer (`_claim`)."""
    if session.get_bind().dialect.name != "postgresql":
        for message in messages:
            add_event(session, OutboxMessage, message)
        if key is not None:
            await _claim(session, family_id=family_id, key=key, now=now, answer=answer)
        await session.flush()
        return
    await session.flush()  # the cancellations' changes, if any: before the places' locks
    if messages:
        events_written(session)
    connection = await session.connection()
    if key is None:
        if messages:
            await connection.execute(_INSERT_EVENTS, {"messages": json.dumps(messages)})
        return
    claimed = await connection.execute(
        _INSERT_EVENTS_AND_KEY,
        {
            "messages": json.dumps(messages),
            "family_id": family_id,
            "key": key,
            "created_at": now,
            "response": json.dumps(answer.model_dump(mode="json")),
        },
    )
    if claimed.first() is None:
        await _replay_stored(session, family_id=family_id, key=key)


def _record_booking(
    session: AsyncSession, plan: _Plan, op: _Op, family_id: str, reservation_id: str, state: str
) -> None:
    """The booking's event (in the session) and result in `state`."""
    add_event(session, OutboxMessage, _booking_event(plan, op, family_id, reservation_id, state))


async def _left_out(
    session: AsyncSession,
    plan: _Plan,
    short: list[_Op],
    *,
    inserted: dict[int, str],
    events: dict[int, str],
    family_id: str,
) -> None:
    """Bookings that found no place left: on the waiting list when the activity keeps one,
    else removed (« complet »); the events written for them replaced."""
    await session.execute(
        delete(OutboxMessage)
        .where(OutboxMessage.id.in_([events[op.index] for op in short]))
        .execution_options(synchronize_session=False)
    )
    waiting: list[str] = []
    full: list[str] = []
    for op in short:
        reservation_id = inserted[op.index]
        if op.info.waiting_list:
            waiting.append(reservation_id)
            _record_booking(session, plan, op, family_id, reservation_id, WAITING)
        else:
            full.append(reservation_id)
            plan.results[op.index] = _full(op.change, op.info)
    if waiting:
        await session.execute(
            update(Reservation)
            .where(Reservation.id.in_(waiting))
            .values(state=WAITING, holds_place=False)
            .execution_options(synchronize_session=False)
        )
    if full:
        await session.execute(
            delete(Reservation)
            .where(Reservation.id.in_(full))
            .execution_options(synchronize_session=False)
        )


async def release_place(
    session: AsyncSession, *, info: OpeningInfo, now: datetime, by: str
) -> Reservation | None:
    """A place is freed: the first waiting request takes it, else the count goes down."""
    waiter = await first_waiting(session, opening_id=info.id)
    if waiter is None:
        await give_back_opening_place(session, opening_id=info.id)
        return None
    waiter.state = CONFIRMED if info.validation == "automatic" else RES_REQUESTED
    waiter.holds_place = True
    waiter.updated_at = now
    waiter.changed_by = by
    record(
        session,
        PROMOTED_EVENT,
        waiter.family_id,
        _event_data(
            reservation_id=waiter.id,
            family_id=waiter.family_id,
            person_id=waiter.person_id,
            person_name=waiter.person_name,
            info=info,
            state=waiter.state,
            **PROMOTION_ACTOR,
        ),
    )
    return waiter


async def _cancel(
    session: AsyncSession, op: _Op, *, family_id: str, now: datetime, actor: dict[str, str]
) -> ChangeResult:
    info = op.info
    late = _late(info, info.cancel_notice, now, "annulé")
    if late:
        return _refused(op.change, "past-deadline", late, info)
    assert op.current is not None
    row = await session.get(Reservation, op.current.id, with_for_update=True)
    if row is None or row.state not in RESERVATION_ACTIVE or row.attendance is not None:
        return _refused(op.change, "nothing-to-cancel", "aucune réservation à annuler", info)
    held = row.state in PLACE_HOLDING
    row.state = RES_CANCELLED
    row.holds_place = False
    row.updated_at = now
    row.changed_by = actor["by"]
    await session.flush()
    record(
        session,
        CANCELLED_EVENT,
        family_id,
        _event_data(
            reservation_id=row.id,
            family_id=family_id,
            person_id=row.person_id,
            person_name=row.person_name,
            info=info,
            state=RES_CANCELLED,
            **actor,
        ),
    )
    if held:
        await release_place(session, info=info, now=now, by="liste d'attente")
    return _applied(op, RES_CANCELLED, row.id)


async def save_changes(
    database: Database,
    *,
    upstream: Upstream | None,
    clock: Clock,
    family_id: str,
    changes: list[Change],
    actor: dict[str, str],
    idempotency_key: str | None = None,
) -> SaveResult:
    """Judge and apply a save's changes; each is applied or refused on its own. `actor`: who
    saves (`Identity.acted`), in the events.

    With an `idempotency_key`, a stored answer is looked for first; else the key is claimed
    in the save's transaction together with its answer, before the places are taken: a
    retry (or a twin, whose INSERT of the key waits for this one's commit) gets the stored
    answer through `Replay` and its own transaction is rolled back, never a second booking.
    """
    async with database.reads() as connection:
        stored, context = await _save_reads(
            connection, family_id=family_id, changes=changes, key=idempotency_key
        )
    if stored:
        # A retry of a finished save: its answer, before any work.
        raise Replay(stored)
    plan = judge(changes=changes, now=clock(), context=context)
    plan.actor = actor
    await _check_documents(plan, upstream=upstream, family_id=family_id)
    if not plan.ops and idempotency_key is None:
        return _summary(plan, len(changes))
    async with database.transaction() as session:
        return await _apply(
            session,
            plan,
            family_id=family_id,
            now=clock(),
            by=actor["by"],
            count=len(changes),
            key=idempotency_key,
        )


class Replay(Exception):
    """This Idempotency-Key was used before: its stored answer is `response`."""

    def __init__(self, response: dict[str, Any]) -> None:
        super().__init__("replay")
        self.response = response


_STORED = select(IdempotencyRecord.response).where(
    IdempotencyRecord.family_id == bindparam("family_id"),
    IdempotencyRecord.key == bindparam("key"),
)


async def _stored_answer(
    connection: AsyncConnection, *, family_id: str, key: str
) -> dict[str, Any] | None:
    """The answer stored for this key, if its save has finished."""
    return (await connection.execute(_STORED, {"family_id": family_id, "key": key})).scalar()


async def _claim(
    session: AsyncSession, *, family_id: str, key: str, now: datetime, answer: SaveResult
) -> None:
    # A twin holding the same key makes this INSERT wait until it commits, then do nothing:
    # this save is then rolled back and the twin's answer replayed.
    claimed = await session.execute(
        _insert_for(session)(IdempotencyRecord)
        .values(
            family_id=family_id, key=key, created_at=now, response=answer.model_dump(mode="json")
        )
        .on_conflict_do_nothing(index_elements=["family_id", "key"])
        .returning(IdempotencyRecord.key)
    )
    if claimed.first() is None:
        await _replay_stored(session, family_id=family_id, key=key)


async def _replay_stored(session: AsyncSession, *, family_id: str, key: str) -> NoReturn:
    stored = await session.get(IdempotencyRecord, (family_id, key))
    raise Replay(stored.response if stored is not None and stored.response else {})


def _summary(plan: _Plan, count: int) -> SaveResult:
    results = [plan.results[i] for i in range(count)]
    applied = sum(1 for r in results if r.ok)
    return SaveResult(results=results, applied=applied, refused=len(results) - applied)


async def decide_reservation(
    session: AsyncSession,
    *,
    reservation_id: str,
    accept: bool,
    reason: str | None,
    now: datetime,
    actor: dict[str, str],
) -> Reservation | None:
    """Staff accept or refuse a pending reservation (manual validation); None if not pending.
    `actor`: who decides (`Identity.acted`)."""
    by = actor["by"]
    row = await session.get(Reservation, reservation_id, with_for_update=True)
    if row is None or row.state != RES_REQUESTED:
        return row
    info_row = (await session.execute(opening_columns().where(Opening.id == row.opening_id))).one()
    info = opening_info(info_row)
    row.updated_at = now
    row.changed_by = by
    data = _event_data(
        reservation_id=row.id,
        family_id=row.family_id,
        person_id=row.person_id,
        person_name=row.person_name,
        info=info,
        state=CONFIRMED if accept else RES_REFUSED,
        **actor,
    )
    if accept:
        row.state = CONFIRMED
        record(session, CONFIRMED_EVENT, row.family_id, data)
    else:
        row.state = RES_REFUSED
        row.holds_place = False
        row.reason = reason
        await session.flush()
        record(session, REFUSED_EVENT, row.family_id, {**data, "reason": reason})
        await release_place(session, info=info, now=now, by=by)
    await session.flush()
    return row


async def active_for(
    session: AsyncSession, *, family_id: str, person_ids: list[str], first: date, last: date
) -> list[tuple[str, str, date, str, str]]:
    """(person, activity, day, unit code, state) of active reservations in a range."""
    rows = await session.execute(
        select(
            Reservation.person_id,
            Reservation.activity_id,
            Reservation.day,
            Unit.code,
            Reservation.state,
        )
        .join(Unit, Unit.id == Reservation.unit_id)
        .where(
            Reservation.family_id == family_id,
            Reservation.person_id.in_(person_ids),
            Reservation.day.between(first, last),
            Reservation.state.in_(RESERVATION_ACTIVE),
        )
    )
    return [(r[0], r[1], r[2], r[3], r[4]) for r in rows.all()]
