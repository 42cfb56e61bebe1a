"""Places of an opening (a day's unit for a group), taken and given back without overbooking.

The same pattern as `places.py`: one conditional UPDATE that PostgreSQL re-evaluates on the
locked row (SQLite runs writers one at a time under the kit's BEGIN IMMEDIATE), and the
CHECK `booked <= capacity` as backstop. A freed place goes to the first of the waiting list
in the same transaction, so a newcomer cannot take it from under them.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .models import WAITING, Opening, Reservation

# Prebuilt and sent as a Core statement: the ORM's UPDATE (session synchronisation) cost
# more than the round trip on this hot path.
_TAKE = (
    update(Opening)
    .where(
        Opening.id == bindparam("opening_id"),
        Opening.booked < Opening.capacity,
        Opening.closed.is_(False),
    )
    .values(booked=Opening.booked + 1)
    .returning(Opening.booked)
)


async def take_opening_place(session: AsyncSession, *, opening_id: str) -> bool:
    """Take one place in the caller's transaction; False when full or closed."""
    connection = await session.connection()
    taken = await connection.execute(_TAKE, {"opening_id": opening_id})
    return taken.first() is not None


async def give_back_opening_place(session: AsyncSession, *, opening_id: str) -> None:
    """Give one place back in the caller's transaction."""
    await session.execute(
        update(Opening)
        .where(Opening.id == opening_id, Opening.booked > 0)
        .values(booked=Opening.booked - 1)
    )


async def first_waiting(session: AsyncSession, *, opening_id: str) -> Reservation | None:
    """The first waiting reservation of the opening, locked (others skip it)."""
    statement = (
        select(Reservation)
        .where(Reservation.opening_id == opening_id, Reservation.state == WAITING)
        .order_by(Reservation.arrival, Reservation.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return await session.scalar(statement)
