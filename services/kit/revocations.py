"""Marks of what auth revoked (browser sessions, API clients), in Redis, for whoever must
stop honouring a token at once rather than when it expires.

One `RevocationMarks` per kind, each with its own key prefix. Within a request, `note`
collects the ids a handler revoked; auth's `mark_revoked_sessions` middleware writes them
(`collected`, then `mark`) before the answer leaves, for as long as a token may live.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar, Token

from redis.asyncio import Redis


class RevocationMarks:
    """The marks of one kind of revocation, under `prefix:<id>`."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        # The ids revoked by the request being handled (None outside a marking middleware).
        self._pending: ContextVar[list[str] | None] = ContextVar(prefix, default=None)

    def key(self, revoked_id: str) -> str:
        """The Redis key marking `revoked_id` as revoked."""
        return f"{self.prefix}:{revoked_id}"

    def note(self, revoked_ids: Iterable[str]) -> None:
        """Remember ids revoked by the current request, to be marked when it is done."""
        pending = self._pending.get()
        if pending is not None:
            pending.extend(revoked_ids)

    def start_collecting(self) -> Token[list[str] | None]:
        """Collect the current request's revocations; give the token to `collected`."""
        return self._pending.set([])

    def collected(self, token: Token[list[str] | None]) -> list[str]:
        """The ids noted since `start_collecting`, and stop collecting."""
        revoked_ids = self._pending.get() or []
        self._pending.reset(token)
        return revoked_ids

    async def mark(self, redis: Redis, revoked_ids: Iterable[str], ttl_seconds: int) -> None:
        """Mark the ids revoked for `ttl_seconds` (raises `RedisError`)."""
        ids = sorted(set(revoked_ids))
        if not ids:
            return
        async with redis.pipeline(transaction=False) as pipe:
            for revoked_id in ids:
                pipe.set(self.key(revoked_id), b"1", ex=ttl_seconds)
            await pipe.execute()

    async def is_marked(self, redis: Redis, revoked_id: str) -> bool:
        """Whether `revoked_id` is marked revoked (raises `RedisError`)."""
        return bool(await redis.exists(self.key(revoked_id)))
