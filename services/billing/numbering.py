"""Gapless numbers per prefix and year, e.g. F200300001 (F, 2020, March, 1st of the year).

The counter row is incremented with `UPDATE … RETURNING` inside the transaction that issues
the invoice: concurrent transactions queue on the row lock, and a rolled-back transaction
gives its number back with its row, so no number is skipped and none is given twice.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from .models import NumberCounter

SEQUENCE_DIGITS = 5


async def next_value(session: AsyncSession, *, prefix: str, year: int) -> int:
    """The next value of the counter (prefix, year), in the caller's transaction."""
    return await next_block(session, prefix=prefix, year=year, count=1)


async def next_block(session: AsyncSession, *, prefix: str, year: int, count: int) -> int:
    """Reserve `count` consecutive values; returns the first (a publication numbers its
    invoices with one statement, still gapless: the block commits or rolls back whole)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # The first number of a year creates the row; a concurrent creator's row wins quietly.
    await session.execute(
        insert(NumberCounter)
        .values(prefix=prefix, year=year, last_value=0)
        .on_conflict_do_nothing(index_elements=["prefix", "year"])
    )
    result = await session.execute(
        update(NumberCounter)
        .where(NumberCounter.prefix == prefix, NumberCounter.year == year)
        .values(last_value=NumberCounter.last_value + count)
        .returning(NumberCounter.last_value)
    )
    return int(result.scalar_one()) - count + 1


def format_number(prefix: str, on: date, value: int) -> str:
    """`F` + yymm of the issue date + the year's sequence on 5 digits."""
    return f"{prefix}{on:%y%m}{value:0{SEQUENCE_DIGITS}d}"


async def next_number(session: AsyncSession, *, prefix: str, on: date) -> str:
    """The next number for a document issued on `on`."""
    return format_number(prefix, on, await next_value(session, prefix=prefix, year=on.year))
