"""Registrations (inscriptions): a family's request, the checks, staff decisions, cancellation.

Every rule is checked on the server; the window is checked again inside the transaction
that saves the request (commit time), and each state change writes its event in that same
transaction. A refused request leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.kit.database import Database
from services.kit.outbox import record_event

from . import events, feed
from .ages import age_on
from .catalogue import get_activity, window_open
from .clock import Clock
from .config import BookingsSettings
from .errors import (
    AgeNotEligible,
    AlreadyRegistered,
    DocumentsMissing,
    GroupFull,
    GroupNotFound,
    PeriodNotFound,
    RegistrationNotFound,
    RegistrationWindowClosed,
    WrongState,
)
from .models import (
    ACCEPTED,
    ACTIVE_STATES,
    CANCELLED,
    REFUSED,
    REQUESTED,
    Activity,
    ActivityGroup,
    OutboxMessage,
    Period,
    Registration,
)
from .notice_rules import describe_deadline
from .places import give_back_place, take_place
from .schemas import STATE_LABELS, FamilyRegistrationQuery, RegistrationCreate, RegistrationQuery
from .upstream import Completeness, Person, Upstream

AUTOMATIC = "validation automatique"
# The actor of an automatic acceptance, as events name it: software, no account.
AUTOMATIC_ACTOR = {"by_role": "service"}


@dataclass(frozen=True)
class RegistrationView:
    """A registration with the names of its activity, period and group."""

    registration: Registration
    activity_name: str
    period_name: str
    school_year: str
    group_name: str


def _window_text(period: Period) -> str:
    # The window closes at an instant that is excluded; say the last minute that counts.
    last = period.registration_closes_at - timedelta(seconds=1)
    return f"du {describe_deadline(period.registration_opens_at)} au {describe_deadline(last)}"


def _check_window(activity: Activity, period: Period, now: datetime) -> None:
    if not window_open(period, now):
        raise RegistrationWindowClosed(
            f"Les inscriptions à « {activity.name} » pour « {period.name} » sont ouvertes "
            f"{_window_text(period)} : la demande est en dehors de cette période."
        )


def _choose_group(
    activity: Activity, period: Period, person: Person, group_id: str | None
) -> ActivityGroup:
    name = person.full_name or "Cette personne"
    if person.birth_date is None:
        raise AgeNotEligible(
            f"La date de naissance de {name} n'est pas renseignée : l'âge ne peut pas être "
            "vérifié. Complétez-la dans « Ma famille »."
        )
    age = age_on(person.birth_date, period.starts_on)
    when = period.starts_on.strftime("%d/%m/%Y")
    if group_id is not None:
        group = next((g for g in activity.groups if g.id == group_id), None)
        if group is None:
            raise GroupNotFound("Groupe inconnu pour cette activité.")
        if not group.min_age <= age <= group.max_age:
            raise AgeNotEligible(
                f"{name} aura {age} ans le {when} : le groupe « {group.name} » accueille les "
                f"enfants de {group.min_age} à {group.max_age} ans."
            )
        return group
    eligible = [g for g in activity.groups if g.min_age <= age <= g.max_age]
    if not eligible:
        if not activity.groups:
            raise AgeNotEligible(f"« {activity.name} » n'a aucun groupe ouvert aux inscriptions.")
        low = min(g.min_age for g in activity.groups)
        high = max(g.max_age for g in activity.groups)
        raise AgeNotEligible(
            f"{name} aura {age} ans le {when} : « {activity.name} » accueille les enfants "
            f"de {low} à {high} ans."
        )
    return eligible[0]


async def _active_registration(
    session: AsyncSession, *, person_id: str, activity_id: str, period_id: str
) -> Registration | None:
    return await session.scalar(
        select(Registration).where(
            Registration.person_id == person_id,
            Registration.activity_id == activity_id,
            Registration.period_id == period_id,
            Registration.state.in_(ACTIVE_STATES),
        )
    )


def _already(name: str, state: str, activity: Activity, period: Period) -> AlreadyRegistered:
    return AlreadyRegistered(
        f"{name} a déjà une inscription {STATE_LABELS[state]} à « {activity.name} » "
        f"pour « {period.name} »."
    )


def _event_data(view: RegistrationView, **extra: Any) -> dict[str, Any]:
    registration = view.registration
    return {
        "registration_id": registration.id,
        "family_id": registration.family_id,
        "person_id": registration.person_id,
        "person_name": registration.person_name,
        "activity_id": registration.activity_id,
        "activity_name": view.activity_name,
        "period_id": registration.period_id,
        "period_name": view.period_name,
        "group_name": view.group_name,
        "state": registration.state,
        **extra,
    }


def _record(
    session: AsyncSession,
    event_type: str,
    view: RegistrationView,
    actor: dict[str, str],
    **extra: Any,
) -> None:
    """The event, with who acted (`Identity.acted`; the history's « Par »)."""
    record_event(
        session,
        OutboxMessage,
        source=BookingsSettings.service_name,
        event_type=event_type,
        data=_event_data(view, **actor, **extra),
        family_id=view.registration.family_id,
    )


def _missing_detail(name: str, verdict: Completeness) -> str:
    """What the parent reads: documents to send, and those sent but not yet checked."""
    to_send = [d for d in verdict.missing if d not in verdict.waiting]
    if not verdict.waiting:
        missing = ", ".join(to_send) or "documents obligatoires"
        return (
            f"Documents manquants pour {name} : {missing}. Transmettez-les depuis "
            "« Mes documents » avant de demander l'inscription."
        )
    # Telling a parent to send what they already sent would send them round in circles.
    detail = (
        f"Documents pas encore validés par la structure pour {name} : {', '.join(verdict.waiting)}."
    )
    if to_send:
        detail += f" À transmettre depuis « Mes documents » : {', '.join(to_send)}."
    return detail + " L'inscription pourra être demandée une fois les documents validés."


async def request_registration(
    database: Database,
    *,
    upstream: Upstream,
    clock: Clock,
    family_id: str,
    data: RegistrationCreate,
    actor: dict[str, str],
) -> RegistrationView:
    """Check every rule, then save the request (accepted at once under automatic validation);
    `actor`, who asked (`Identity.acted`)."""
    async with database.sessions() as session:
        activity = await get_activity(session, activity_id=data.activity_id)
        period = await session.get(Period, data.period_id)
        if period is None or period.activity_id != activity.id:
            raise PeriodNotFound("Période inconnue pour cette activité.")
        _check_window(activity, period, clock())
    # Families and documents are asked at once, outside any transaction (no lock waits on
    # the network); their answers are then judged in the order of the rules.
    person_call = upstream.person(family_id=family_id, person_id=data.person_id)
    verdict: Completeness | BaseException | None = None
    if activity.documents_required:
        documents_call = upstream.completeness(
            family_id=family_id, person_id=data.person_id, activity_id=activity.id
        )
        found, verdict = await asyncio.gather(person_call, documents_call, return_exceptions=True)
        if isinstance(found, BaseException):
            raise found
        person = found
    else:
        person = await person_call
    group = _choose_group(activity, period, person, data.group_id)
    name = person.full_name or "Cette personne"
    async with database.sessions() as session:
        existing = await _active_registration(
            session, person_id=person.id, activity_id=activity.id, period_id=period.id
        )
    if existing is not None:
        raise _already(name, existing.state, activity, period)
    if isinstance(verdict, BaseException):
        raise verdict
    if verdict is not None and not verdict.complete:
        raise DocumentsMissing(_missing_detail(name, verdict), missing=list(verdict.missing))
    try:
        async with database.transaction() as session:
            return await _save_request(
                session,
                clock=clock,
                family_id=family_id,
                person=person,
                group=group,
                activity_id=activity.id,
                period_id=period.id,
                actor=actor,
            )
    except IntegrityError as exc:
        if "ck_group_places" in str(exc.orig):  # the backstop, should the UPDATE ever miss
            raise GroupFull(
                f"Le groupe « {group.name} » est complet pour « {period.name} »."
            ) from None
        # The unique index on active registrations: a double click or a concurrent twin.
        raise _already(name, REQUESTED, activity, period) from None


async def _save_request(
    session: AsyncSession,
    *,
    clock: Clock,
    family_id: str,
    person: Person,
    group: ActivityGroup,
    activity_id: str,
    period_id: str,
    actor: dict[str, str],
) -> RegistrationView:
    # Read again inside the transaction: a window moved meanwhile by staff counts.
    activity = await get_activity(session, activity_id=activity_id)
    period = await session.get(Period, period_id)
    if period is None:
        raise PeriodNotFound("Période inconnue pour cette activité.")
    now = clock()
    _check_window(activity, period, now)
    holds_place = False
    if group.capacity is not None:
        if not await take_place(
            session, group_id=group.id, period_id=period.id, capacity=group.capacity
        ):
            raise GroupFull(
                f"Le groupe « {group.name} » de « {activity.name} » est complet pour "
                f"« {period.name} »."
            )
        holds_place = True
    registration = Registration(
        id=str(uuid.uuid4()),
        family_id=family_id,
        person_id=person.id,
        person_name=person.full_name,
        activity_id=activity.id,
        period_id=period.id,
        group_id=group.id,
        state=REQUESTED,
        created_at=now,
        updated_at=now,
        holds_place=holds_place,
    )
    session.add(registration)
    await session.flush()
    view = RegistrationView(
        registration, activity.name, period.name, period.school_year, group.name
    )
    _record(session, events.REGISTRATION_REQUESTED, view, actor)
    if activity.validation == "automatic":
        registration.state = ACCEPTED
        registration.decided_at = now
        registration.decided_by = AUTOMATIC
        # Nobody decided: the activity's automatic validation (« un logiciel de la structure »).
        _record(session, events.REGISTRATION_ACCEPTED, view, AUTOMATIC_ACTOR, automatic=True)
    await session.flush()
    return view


async def _locked_view(
    session: AsyncSession, *, registration_id: str, family_id: str | None
) -> RegistrationView:
    statement = registration_rows().where(Registration.id == registration_id)
    if family_id is not None:
        statement = statement.where(Registration.family_id == family_id)
    row = (await session.execute(statement.with_for_update(of=Registration))).first()
    if row is None:
        raise RegistrationNotFound("Inscription inconnue.")
    return registration_view(row)


async def cancel_registration(
    session: AsyncSession,
    *,
    family_id: str,
    registration_id: str,
    now: datetime,
    actor: dict[str, str],
) -> RegistrationView:
    """The family withdraws a pending or accepted registration; its place is given back.
    `actor`: who did (`Identity.acted`)."""
    view = await _locked_view(session, registration_id=registration_id, family_id=family_id)
    registration = view.registration
    if registration.state not in ACTIVE_STATES:
        raise WrongState(
            f"Cette inscription est déjà {STATE_LABELS[registration.state]} : "
            "elle ne peut plus être annulée."
        )
    await _release(session, registration)
    registration.state = CANCELLED
    registration.updated_at = now
    registration.decided_by = actor["by"]
    _record(session, events.REGISTRATION_CANCELLED, view, actor)
    await session.flush()
    return view


async def decide(
    session: AsyncSession,
    *,
    registration_id: str,
    accept: bool,
    reason: str | None,
    now: datetime,
    actor: dict[str, str],
) -> RegistrationView:
    """Staff accept or refuse (with a reason) a pending request; `actor`, who
    (`Identity.acted`)."""
    view = await _locked_view(session, registration_id=registration_id, family_id=None)
    registration = view.registration
    if registration.state != REQUESTED:
        raise WrongState(f"Cette demande est déjà {STATE_LABELS[registration.state]}.")
    registration.decided_at = registration.updated_at = now
    registration.decided_by = actor["by"]
    if accept:
        registration.state = ACCEPTED
        _record(session, events.REGISTRATION_ACCEPTED, view, actor, automatic=False)
    else:
        await _release(session, registration)
        registration.state = REFUSED
        registration.refusal_reason = reason
        _record(session, events.REGISTRATION_REFUSED, view, actor, reason=reason)
    await session.flush()
    return view


async def _release(session: AsyncSession, registration: Registration) -> None:
    if registration.holds_place:
        await give_back_place(
            session, group_id=registration.group_id, period_id=registration.period_id
        )
        registration.holds_place = False


ViewSelect = Select[Registration, str, str, str, str]


def registration_view(row: Row[Registration, str, str, str, str]) -> RegistrationView:
    """A row of `registration_rows()` as the view the API answers with."""
    return RegistrationView(row[0], row[1], row[2], row[3], row[4])


def registration_rows() -> ViewSelect:
    """Registrations with their activity, period and group names (lists, queue, export)."""
    return (
        select(Registration, Activity.name, Period.name, Period.school_year, ActivityGroup.name)
        .join(Activity, Activity.id == Registration.activity_id)
        .join(Period, Period.id == Registration.period_id)
        .join(ActivityGroup, ActivityGroup.id == Registration.group_id)
    )


def _filtered(statement: ViewSelect, query: FamilyRegistrationQuery) -> ViewSelect:
    if query.person_id:
        statement = statement.where(Registration.person_id == query.person_id)
    if query.activity_id:
        statement = statement.where(Registration.activity_id == query.activity_id)
    if query.period_id:
        statement = statement.where(Registration.period_id == query.period_id)
    if query.state:
        statement = statement.where(Registration.state == query.state)
    if query.school_year:
        statement = statement.where(Period.school_year == query.school_year)
    return statement


async def family_registrations(
    session: AsyncSession, *, family_id: str, query: FamilyRegistrationQuery
) -> list[RegistrationView]:
    """A family's registrations matching the filters, newest first."""
    statement = _filtered(registration_rows().where(Registration.family_id == family_id), query)
    statement = statement.order_by(Registration.created_at.desc(), Registration.id).limit(500)
    return [registration_view(row) for row in (await session.execute(statement)).all()]


async def family_registration(
    session: AsyncSession, *, family_id: str, registration_id: str
) -> RegistrationView:
    """One of the family's registrations; another family's answers like a missing one."""
    statement = registration_rows().where(
        Registration.id == registration_id, Registration.family_id == family_id
    )
    row = (await session.execute(statement)).first()
    if row is None:
        raise RegistrationNotFound("Inscription inconnue.")
    return registration_view(row)


async def all_registrations(
    session: AsyncSession, *, query: RegistrationQuery
) -> list[RegistrationView]:
    """Registrations of every family (staff queue, municipal reads), oldest change first."""
    statement = _filtered(registration_rows(), query)
    if query.family_id:
        statement = statement.where(Registration.family_id == query.family_id)
    if query.since is not None:
        statement = statement.where(Registration.updated_at >= query.since)
    if query.cursor is not None:
        position = feed.Position.decode(query.cursor)
        statement = statement.where(feed.after(Registration.updated_at, Registration.id, position))
    statement = statement.order_by(Registration.updated_at, Registration.id).limit(query.limit)
    return [registration_view(row) for row in (await session.execute(statement)).all()]


async def count_pending(session: AsyncSession, *, family_id: str) -> int:
    """How many of the family's requests wait for a decision."""
    statement = (
        select(func.count())
        .select_from(Registration)
        .where(Registration.family_id == family_id, Registration.state == REQUESTED)
    )
    return int(await session.scalar(statement) or 0)


async def count_accepted(session: AsyncSession, *, family_id: str) -> int:
    """How many of the family's registrations are accepted."""
    statement = (
        select(func.count())
        .select_from(Registration)
        .where(Registration.family_id == family_id, Registration.state == ACCEPTED)
    )
    return int(await session.scalar(statement) or 0)
