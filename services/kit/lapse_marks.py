"""When an account was last disabled or removed from a family, or a family last archived, in
the shared Redis: for a service holding something made on their behalf that must stop working
from then on (bookings' private calendar links), without reading the owner's tables.

The owner writes the mark once the change committed (`auth:account-disabled-at:<id>`,
`auth:membership-removed-at:<account id>:<family id>`, `families:family-archived-at:<id>`,
the UTC time as epoch seconds) and keeps it when the account is enabled, the family added
back or reactivated: what was made before stays dead, what is made after works. A mark is a
few bytes per lapse, so it has no expiry; an owner writes the missing ones again for what is
disabled or archived now when it starts (`mark_missing`), so a Redis that lost its data
forgets at most the lapses since undone (and the memberships removed, which leave no row).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from redis.asyncio import Redis


class LapseMarks:
    """The marks of one kind of lapse, under `prefix:<id>`."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def key(self, owner_id: str) -> str:
        """The Redis key of `owner_id`'s last lapse."""
        return f"{self.prefix}:{owner_id}"

    async def mark(self, redis: Redis, owner_id: str, at: datetime) -> None:
        """Record that `owner_id` lapsed at `at` (raises `RedisError`)."""
        await redis.set(self.key(owner_id), str(at.timestamp()))

    async def mark_missing(self, redis: Redis, lapses: Iterable[tuple[str, datetime]]) -> None:
        """Record the lapses that have no mark yet, leaving the others as they are."""
        async with redis.pipeline(transaction=False) as pipe:
            for owner_id, at in lapses:
                pipe.set(self.key(owner_id), str(at.timestamp()), nx=True)
            await pipe.execute()


ACCOUNTS = LapseMarks("auth:account-disabled-at")
# Keyed `<account id>:<family id>`: the login no longer acts for that family.
MEMBERSHIPS = LapseMarks("auth:membership-removed-at")
FAMILIES = LapseMarks("families:family-archived-at")


def membership(account_id: str, family_id: str) -> str:
    """The id of a login's membership of a family in `MEMBERSHIPS`."""
    return f"{account_id}:{family_id}"


async def latest(redis: Redis, keys: Sequence[str]) -> datetime | None:
    """The latest lapse among `keys`' marks, None when none is marked (raises `RedisError`)."""
    values = [float(v) for v in await redis.mget(list(keys)) if v is not None]
    return datetime.fromtimestamp(max(values), UTC) if values else None
