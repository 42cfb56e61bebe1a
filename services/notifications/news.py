"""News on "Mon tableau de bord": published by staff, shown while current, maybe to one activity."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.kit.outbox import utcnow
from services.kit.problems import NotFound, ValidationFailed

from .models import FamilyActivity, News


async def current_for_family(
    session: AsyncSession, family_id: str, *, now: datetime | None = None
) -> list[News]:
    """The news a family sees now: visible today, for everyone or one of its activities."""
    now = now or utcnow()
    activities = select(FamilyActivity.activity_id).where(FamilyActivity.family_id == family_id)
    rows = await session.scalars(
        select(News)
        .where(News.visible_from <= now)
        .where(or_(News.visible_until.is_(None), News.visible_until > now))
        .where(or_(News.activity_id.is_(None), News.activity_id.in_(activities)))
        .order_by(News.visible_from.desc(), News.id)
        .limit(10)
    )
    return list(rows)


async def list_all(session: AsyncSession) -> list[News]:
    """Every news, newest first (staff)."""
    return list(await session.scalars(select(News).order_by(News.visible_from.desc(), News.id)))


async def save(
    session: AsyncSession,
    *,
    news_id: str | None,
    title: str,
    text: str,
    visible_from: datetime,
    visible_until: datetime | None,
    activity_id: str | None,
    author: str,
) -> News:
    """Publish a news, or change one (404 when unknown)."""
    if visible_until is not None and visible_until <= visible_from:
        raise ValidationFailed(
            "The end of visibility must come after its start.",
            errors=[{"field": "visible_until", "message": "Must be after visible_from."}],
        )
    if news_id is None:
        news = News(id=str(uuid.uuid4()), created_at=utcnow(), created_by=author[:64])
        session.add(news)
    else:
        found = await session.get(News, news_id[:36])
        if found is None:
            raise NotFound("No such news.")
        news = found
    news.title, news.text = title, text
    news.visible_from, news.visible_until = visible_from, visible_until
    news.activity_id = activity_id
    await session.flush()
    return news


async def delete(session: AsyncSession, news_id: str) -> None:
    """Withdraw a news (404 when unknown)."""
    news = await session.get(News, news_id[:36])
    if news is None:
        raise NotFound("No such news.")
    await session.delete(news)
