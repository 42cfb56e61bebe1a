"""The documents rules, with no HTTP in them."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.kit.outbox import utcnow

from .models import DocumentType, OrgDocument


async def published_org_documents(session: AsyncSession) -> list[OrgDocument]:
    """The structure's documents published by now, newest first."""
    statement = select(OrgDocument).where(OrgDocument.published_at <= utcnow())
    return list(await session.scalars(statement.order_by(OrgDocument.published_at.desc())))


async def count_expected_documents(session: AsyncSession) -> int:
    """How many document types the structure asks for (submissions come with their issue)."""
    return int(await session.scalar(select(func.count()).select_from(DocumentType)) or 0)
