"""Places of an opening (a day's unit for a group), taken and given back without overbooking.

The same pattern as `places.py`: a conditional UPDATE that PostgreSQL re-evaluates on the
locked row (SQLite runs writers one at a time under the kit's BEGIN IMMEDIATE), and the
CHECK `booked <= capacity` as backstop. A freed place goes to the first of the waiting list
in the same transaction, so a newcomer cannot take it from under them.

A save's places are taken on PostgreSQL by one statement for all its openings, locking them
in id order (two saves never wait on each other crosswise: no deadlock) and taking at most
what is left of each; on SQLite, one conditional UPDATE per place.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import Integer, String, bindparam, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
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


# The lock is taken in the CTE, in id order, on the row's latest version (READ COMMITTED
# re-reads a row changed meanwhile and re-checks the WHERE); `before` is then the count the
# UPDATE starts from, so `taken` is exact even when fewer places are left than wanted.
_TAKE_MANY = text(
    """
    WITH locked AS (
        SELECT o.id, o.booked AS before, wanted.n
        FROM openings o
        JOIN unnest(:ids, :counts) AS wanted(id, n) ON wanted.id = o.id
        WHERE o.booked < o.capacity AND NOT o.closed
        ORDER BY o.id
        FOR NO KEY UPDATE OF o
    )
    UPDATE openings o SET booked = o.booked + LEAST(locked.n, o.capacity - o.booked)
    FROM locked WHERE o.id = locked.id
    RETURNING o.id, o.booked - locked.before AS taken
    """
).bindparams(bindparam("ids", type_=ARRAY(String)), bindparam("counts", type_=ARRAY(Integer)))


_LOCK = text(
    "SELECT id FROM openings WHERE id = ANY(:ids) ORDER BY id FOR NO KEY UPDATE"
).bindparams(bindparam("ids", type_=ARRAY(String)))


async def lock_openings(session: AsyncSession, opening_ids: list[str]) -> None:
    """Lock these openings in id order for the rest of the caller's transaction (PostgreSQL;
    SQLite's writers already run one at a time)."""
    if session.get_bind().dialect.name == "postgresql":
        connection = await session.connection()
        await connection.execute(_LOCK, {"ids": sorted(opening_ids)})


async def take_opening_place(session: AsyncSession, *, opening_id: str) -> bool:
    """Take one place in the caller's transaction; False when full or closed."""
    connection = await session.connection()
    taken = await connection.execute(_TAKE, {"opening_id": opening_id})
    return taken.first() is not None


async def take_opening_places(session: AsyncSession, wanted: Counter[str]) -> dict[str, int]:
    """Take `wanted[opening]` places of each opening, or as many as are left; how many each."""
    if not wanted:
        return {}
    if session.get_bind().dialect.name != "postgresql":
        taken: dict[str, int] = {}
        for opening_id in sorted(wanted):
            for _ in range(wanted[opening_id]):
                if not await take_opening_place(session, opening_id=opening_id):
                    break
                taken[opening_id] = taken.get(opening_id, 0) + 1
        return taken
    ids = sorted(wanted)
    connection = await session.connection()
    rows = await connection.execute(_TAKE_MANY, {"ids": ids, "counts": [wanted[i] for i in ids]})
    return {row.id: row.taken for row in rows}


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
