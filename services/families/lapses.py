"""Archived families marked in the shared Redis (kit/lapse_marks.py), for the services that
hold something made for a family and must stop honouring it (bookings' calendar links)."""

from __future__ import annotations

from datetime import datetime

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import select

from services.kit.database import Database
from services.kit.lapse_marks import FAMILIES

from .models import Family

log = structlog.get_logger(__name__)

ARCHIVED = "archived"


async def mark_archived(redis: Redis, family_id: str, at: datetime) -> None:
    """Mark the family archived at `at`; a Redis failure is logged, not raised (the family is
    archived whatever Redis says; `mark_all_archived` writes the mark at the next start)."""
    try:
        await FAMILIES.mark(redis, family_id, at)
    except (RedisError, OSError) as exc:
        log.warning("family_archived_unmarked", family_id=family_id, error=type(exc).__name__)


async def mark_all_archived(database: Database, redis: Redis) -> None:
    """Write the missing marks of the families archived now, at start."""
    async with database.sessions() as session:
        rows = (
            await session.execute(
                select(Family.id, Family.updated_at).where(Family.status == ARCHIVED)
            )
        ).all()
    try:
        await FAMILIES.mark_missing(redis, [(row.id, row.updated_at) for row in rows])
    except (RedisError, OSError) as exc:
        log.warning("archived_families_unmarked", count=len(rows), error=type(exc).__name__)
