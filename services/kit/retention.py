"""Deleting rows past their retention, a batch per transaction, oldest first.

Each batch holds its rows' locks for a moment only, so no request waits behind a night's
whole purge; a batch smaller than asked ends the purge.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from .database import Database

PURGE_BATCH = 500


async def delete_older_than(
    database: Database,
    *,
    key: Sequence[InstrumentedAttribute[str]],
    created_at: InstrumentedAttribute[datetime],
    cutoff: datetime,
    batch: int = PURGE_BATCH,
) -> int:
    """Delete the rows of `key`'s table created before `cutoff`; returns how many went.

    `key`: the columns of the table's primary key (rows are deleted by it)."""
    table = created_at.class_
    columns = tuple_(*key)
    removed = 0
    while True:
        oldest = select(*key).where(created_at < cutoff).order_by(created_at).limit(batch)
        async with database.transaction() as session:
            doomed = (await session.execute(oldest)).all()
            if doomed:
                await session.execute(delete(table).where(columns.in_(doomed)))
        removed += len(doomed)
        if len(doomed) < batch:
            return removed
