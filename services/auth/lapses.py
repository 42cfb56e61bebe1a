"""Disabled accounts and removed memberships marked in the shared Redis (kit/lapse_marks.py),
for the services that hold something an account made and must stop honouring it (bookings'
calendar links)."""

from __future__ import annotations

from datetime import datetime

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import select

from services.kit.database import Database
from services.kit.lapse_marks import ACCOUNTS, MEMBERSHIPS, membership

from .models import Account

log = structlog.get_logger(__name__)


async def mark_disabled(redis: Redis, account_id: str, at: datetime) -> None:
    """Mark the account disabled at `at`; a Redis failure is logged, not raised: the account
    is disabled (its sessions ended) whatever Redis says, and `mark_all_disabled` writes the
    mark again at the next start."""
    try:
        await ACCOUNTS.mark(redis, account_id, at)
    except (RedisError, OSError) as exc:
        log.warning("account_disabled_unmarked", account_id=account_id, error=type(exc).__name__)


async def mark_membership_removed(
    redis: Redis, account_id: str, family_id: str, at: datetime
) -> None:
    """Mark the login removed from the family at `at` (a Redis failure is logged: the
    membership is gone whatever Redis says)."""
    try:
        await MEMBERSHIPS.mark(redis, membership(account_id, family_id), at)
    except (RedisError, OSError) as exc:
        log.warning("membership_removal_unmarked", account_id=account_id, error=type(exc).__name__)


async def mark_all_disabled(database: Database, redis: Redis) -> None:
    """Write the missing marks of the accounts disabled now (a Redis that lost its data, a
    mark that failed): at start, before the service answers."""
    async with database.sessions() as session:
        rows = (
            await session.execute(
                select(Account.id, Account.updated_at).where(Account.state == "disabled")
            )
        ).all()
    try:
        await ACCOUNTS.mark_missing(redis, [(row.id, row.updated_at) for row in rows])
    except (RedisError, OSError) as exc:
        log.warning("disabled_accounts_unmarked", count=len(rows), error=type(exc).__name__)
