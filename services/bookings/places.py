"""Registration places of a group for a period, taken and given back without ever overbooking.

Measured before writing this (PROMISES.md): "count, then insert" overbooks under
concurrency. Here a place is taken by one conditional UPDATE whose WHERE re-checks the
count on the locked row (PostgreSQL re-evaluates it after waiting for the row lock; SQLite
runs writers one at a time thanks to the kit's BEGIN IMMEDIATE), and the CHECK constraint
`registered <= capacity` stays as a backstop.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from .models import GroupPlaces


async def take_place(
    session: AsyncSession, *, group_id: str, period_id: str, capacity: int
) -> bool:
    """Take one place in the caller's transaction; False when the group is full."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # The counter row appears with the first request of the period; a concurrent first
    # request waits on the key and then finds the row.
    await session.execute(
        insert(GroupPlaces)
        .values(group_id=group_id, period_id=period_id, capacity=capacity, registered=0)
        .on_conflict_do_nothing(index_elements=["group_id", "period_id"])
    )
    taken = await session.execute(
        update(GroupPlaces)
        .where(
            GroupPlaces.group_id == group_id,
            GroupPlaces.period_id == period_id,
            GroupPlaces.registered < GroupPlaces.capacity,
        )
        .values(registered=GroupPlaces.registered + 1)
        .returning(GroupPlaces.registered)
    )
    return taken.first() is not None


async def give_back_place(session: AsyncSession, *, group_id: str, period_id: str) -> None:
    """Give one place back in the caller's transaction."""
    await session.execute(
        update(GroupPlaces)
        .where(
            GroupPlaces.group_id == group_id,
            GroupPlaces.period_id == period_id,
            GroupPlaces.registered > 0,
        )
        .values(registered=GroupPlaces.registered - 1)
    )
