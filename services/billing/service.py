"""The billing rules, with no HTTP in them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import Invoice


async def list_invoices(
    session: AsyncSession, *, family_id: str, to_pay_only: bool
) -> list[Invoice]:
    """A family's invoices, newest first; only those with a balance due when asked."""
    statement = select(Invoice).where(Invoice.family_id == family_id)
    if to_pay_only:
        statement = statement.where(Invoice.balance_cents > 0)
    return list(await session.scalars(statement.order_by(Invoice.issued_on.desc())))
