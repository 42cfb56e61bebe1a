"""Deleting catalogue entries — only what nothing depends on.

A group, a unit or a period may go when no registration and no reservation (of any state:
refused and cancelled ones are the families' history) points at it; its openings that were
never booked go with it, and their number is given back. Otherwise the refusal names what
depends on it and suggests closing instead. A closed day may always go: it is only a mark
the bulk creation skips.

Each deletion first locks the rows it will delete (`FOR UPDATE`), then counts what uses
them: a registration or reservation being inserted holds a key-share lock on the rows it
points at, so the lock waits for it to commit and the count then sees it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, distinct, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from .catalogue import plural
from .errors import CatalogueConflict, ClosureNotFound, GroupNotFound, PeriodNotFound, UnitNotFound
from .models import (
    ACTIVE_STATES,
    RESERVATION_ACTIVE,
    ActivityGroup,
    Closure,
    GroupPlaces,
    Opening,
    Period,
    Registration,
    Reservation,
    Unit,
)
from .schemas import ClosureRemoval, Removal

RACE = "Ce qui en dépend vient de changer ; réessayez."


@dataclass(frozen=True)
class Uses:
    """What points at a catalogue entry."""

    registrations: int = 0
    active_registrations: int = 0
    reservations: int = 0
    active_reservations: int = 0
    booked_openings: int = 0

    def __bool__(self) -> bool:
        return bool(self.registrations or self.reservations)

    def described(self) -> str:
        """`3 inscriptions (dont 1 en cours ou acceptée), 5 réservations sur 2 ouvertures …`."""
        parts = []
        if self.registrations:
            part = plural(self.registrations, "inscription", "inscriptions")
            if self.active_registrations:
                part += f" (dont {self.active_registrations} en cours ou acceptée"
                part += "s)" if self.active_registrations > 1 else ")"
            parts.append(part)
        if self.reservations:
            part = plural(self.reservations, "réservation", "réservations")
            part += " sur " + plural(self.booked_openings, "ouverture", "ouvertures")
            if self.active_reservations:
                part += f" (dont {self.active_reservations} en cours)"
            parts.append(part)
        return ", ".join(parts)


def _refusal(head: str, uses: Uses, instead: str) -> CatalogueConflict:
    return CatalogueConflict(
        f"{head}, car des données en dépendent : {uses.described()} — les annulées et les "
        f"refusées comptent aussi, elles restent dans l'historique des familles. {instead}"
    )


async def _lock_openings(session: AsyncSession, where: ColumnElement[bool]) -> int:
    """Lock the openings in scope until commit (in id order); how many there are."""
    statement = select(Opening.id).where(where).order_by(Opening.id).with_for_update()
    return len(list(await session.scalars(statement)))


async def _uses(
    session: AsyncSession, openings: ColumnElement[bool], registrations: ColumnElement[bool] | None
) -> Uses:
    """What points at the entry: registrations matching, reservations on the openings in scope."""
    registered = active_registered = 0
    if registrations is not None:
        registered, active_registered = (
            await session.execute(
                select(
                    func.count(),
                    func.count().filter(Registration.state.in_(ACTIVE_STATES)),
                ).where(registrations)
            )
        ).one()
    # A subquery, not the locked ids: a school year's openings would be thousands of parameters.
    reserved, active_reserved, booked_openings = (
        await session.execute(
            select(
                func.count(),
                func.count().filter(Reservation.state.in_(RESERVATION_ACTIVE)),
                func.count(distinct(Reservation.opening_id)),
            ).where(Reservation.opening_id.in_(select(Opening.id).where(openings)))
        )
    ).one()
    return Uses(registered, active_registered, reserved, active_reserved, booked_openings)


async def _flush(session: AsyncSession) -> None:
    # The backstop: the foreign keys refuse a row that slipped in despite the locks.
    try:
        await session.flush()
    except IntegrityError:
        raise CatalogueConflict(RACE) from None


async def delete_group(session: AsyncSession, *, group_id: str) -> Removal:
    """Delete a group nobody registered to nor booked; its unbooked openings go with it."""
    group = await session.scalar(
        select(ActivityGroup).where(ActivityGroup.id == group_id).with_for_update()
    )
    if group is None:
        raise GroupNotFound("Groupe inconnu.")
    scope = Opening.group_id == group_id
    openings = await _lock_openings(session, scope)
    uses = await _uses(session, scope, Registration.group_id == group_id)
    if uses:
        raise _refusal(
            f"Le groupe « {group.name} » ne peut pas être supprimé",
            uses,
            "Pour ne plus le proposer, fermez plutôt ses ouvertures.",
        )
    await session.execute(delete(Opening).where(scope))
    await session.execute(delete(GroupPlaces).where(GroupPlaces.group_id == group_id))
    await session.delete(group)
    await _flush(session)
    return Removal(id=group_id, openings_removed=openings)


async def delete_unit(session: AsyncSession, *, unit_id: str) -> Removal:
    """Delete a unit never booked; its openings go, and other units stop excluding it."""
    unit = await session.scalar(select(Unit).where(Unit.id == unit_id).with_for_update())
    if unit is None:
        raise UnitNotFound("Unité inconnue.")
    scope = Opening.unit_id == unit_id
    openings = await _lock_openings(session, scope)
    uses = await _uses(session, scope, None)
    if uses:
        raise _refusal(
            f"L'unité « {unit.label} » ne peut pas être supprimée",
            uses,
            "Pour ne plus la proposer, fermez plutôt ses ouvertures.",
        )
    siblings = await session.scalars(
        select(Unit).where(Unit.activity_id == unit.activity_id, Unit.id != unit_id)
    )
    for sibling in siblings:  # exclusions are read both ways: none may name a missing unit
        if unit.code in sibling.excludes:
            sibling.excludes = [code for code in sibling.excludes if code != unit.code]
    await session.execute(delete(Opening).where(scope))
    await session.delete(unit)
    await _flush(session)
    return Removal(id=unit_id, openings_removed=openings)


async def delete_period(session: AsyncSession, *, period_id: str) -> Removal:
    """Delete a period with no registration nor reservation, and its unbooked openings."""
    period = await session.scalar(select(Period).where(Period.id == period_id).with_for_update())
    if period is None:
        raise PeriodNotFound("Période inconnue.")
    scope = Opening.period_id == period_id
    openings = await _lock_openings(session, scope)
    uses = await _uses(session, scope, Registration.period_id == period_id)
    if uses:
        raise _refusal(
            f"La période « {period.name} » ne peut pas être supprimée",
            uses,
            "Pour l'arrêter, fermez plutôt sa fenêtre d'inscription et ses ouvertures.",
        )
    await session.execute(delete(Opening).where(scope))
    await session.execute(delete(GroupPlaces).where(GroupPlaces.period_id == period_id))
    await session.delete(period)
    await _flush(session)
    return Removal(id=period_id, openings_removed=openings)


async def delete_closure(session: AsyncSession, *, closure_id: str) -> ClosureRemoval:
    """Open a closed day again (a mistaken strike day): bulk creation no longer skips it.

    Openings closed that day stay closed, and reservations a closure cancelled stay
    cancelled (their families were told): the answer counts the openings to reopen one by one.
    """
    closure = await session.get(Closure, closure_id)
    if closure is None:
        raise ClosureNotFound("Jour de fermeture inconnu.")
    day, activity_id = closure.day, closure.activity_id
    await session.delete(closure)
    await session.flush()
    still_closed = await session.scalar(
        select(func.count())
        .select_from(Opening)
        .where(Opening.activity_id == activity_id, Opening.day == day, Opening.closed)
    )
    return ClosureRemoval(id=closure_id, day=day, closed_openings=still_closed or 0)
