"""Online-guessing limits in Redis: sliding windows per account and per client IP.

Soft lock only: a window slides, so a throttled account is usable again without anyone's
help, and a password reset or staff "unlock" clears it at once. Nothing an attacker can do
locks a parent out for longer than the window.
"""

from __future__ import annotations

import hashlib
import math
import time
import uuid
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.kit.problems import ServiceUnavailable, TooManyRequests

PREFIX = "auth:throttle:"


@dataclass(frozen=True)
class Window:
    """At most `limit` events per `seconds`."""

    limit: int
    seconds: int


def account_key(email: str) -> str:
    """The account's bucket: the e-mail's hash (no address in Redis, known or not)."""
    return PREFIX + "account:" + hashlib.sha256(email.casefold().encode()).hexdigest()


def mail_key(account_id: str, purpose: str) -> str:
    """An account's bucket of e-mails of one kind (reset links, new invitation links)."""
    return f"{PREFIX}mail:{purpose}:{account_id}"


def ip_key(ip: str, scope: str = "login") -> str:
    """A client address's bucket for one kind of request."""
    return f"{PREFIX}ip:{scope}:{ip}"


class Throttle:
    """Reserve-then-check counters: concurrent attempts can never overshoot the limit."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def reserve(self, key: str, window: Window) -> str:
        """Count one attempt in `key`, or raise 429 with Retry-After when the window is full."""
        now = time.time()
        member = f"{now:.6f}:{uuid.uuid4().hex[:8]}"
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.zremrangebyscore(key, 0, now - window.seconds)
                pipe.zadd(key, {member: now})
                pipe.zcard(key)
                pipe.zrange(key, 0, 0, withscores=True)
                pipe.expire(key, window.seconds + 1)
                _, _, count, oldest, _ = await pipe.execute()
        except RedisError:
            # Fail closed: without the throttle, guessing would be unlimited.
            raise ServiceUnavailable(
                "Sign-in is briefly unavailable; try again in a moment.",
                headers={"Retry-After": "5"},
            ) from None
        if count > window.limit:
            await self.redis.zrem(key, member)
            oldest_at = oldest[0][1] if oldest else now
            retry_after = max(1, math.ceil(oldest_at + window.seconds - now))
            raise TooManyRequests(
                "Too many attempts; try again later.",
                headers={"Retry-After": str(retry_after)},
                retry_after=retry_after,
            )
        return member

    async def allow(self, key: str, window: Window) -> bool:
        """Count one event when the window has room; False (nothing counted) when it is full.

        For caps that must not change the answer, e.g. how many e-mails one address gets.
        """
        try:
            await self.reserve(key, window)
        except TooManyRequests:
            return False
        return True

    async def release(self, key: str, member: str) -> None:
        """Uncount an attempt (a successful sign-in is not a failure)."""
        await self.redis.zrem(key, member)

    async def clear(self, key: str) -> None:
        """Empty a bucket (staff unlock, completed reset)."""
        await self.redis.delete(key)

    async def counts(self, keys: list[str], window: Window) -> list[int]:
        """Attempts currently counted in each of `keys` (one round trip)."""
        if not keys:
            return []
        since = time.time() - window.seconds
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.zcount(key, since, "+inf")
                return [int(n) for n in await pipe.execute()]
        except RedisError:
            raise ServiceUnavailable("The sign-in throttle cannot be read right now.") from None

    async def count(self, key: str, window: Window) -> int:
        """Attempts currently counted in `key`."""
        now = time.time()
        await self.redis.zremrangebyscore(key, 0, now - window.seconds)
        return int(await self.redis.zcard(key))
