"""Revoked sessions, marked in Redis so that the gateway stops using their cached JWT at once.

The gateway caches each browser session's JWT for up to a minute (gateway/session.py), so
most requests cost no call to auth. When auth revokes sessions (an account disabled, a
password changed or reset, roles changed, a family login removed), it marks each one here,
under the hash both sides already key sessions by (SHA-256 of the session token, never the
token), for as long as any JWT it signed may live. The gateway reads the mark in the same
Redis call as the cached JWT and, when marked, asks auth again, which refuses the session.

Without Redis the marks are lost and the cache's own minute is the bound, as before.

Within a request, `note` collects the hashes a handler revokes and the auth service's
`mark_revoked_sessions` middleware writes them once the handler is done, before the answer
leaves: whoever sees « compte désactivé » can count on the session being refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar, Token

from redis.asyncio import Redis

KEY_PREFIX = "auth:revoked-session"

# The hashes revoked by the request being handled (None outside a marking middleware).
_REVOKED: ContextVar[list[str] | None] = ContextVar("revoked_session_hashes", default=None)


def revoked_key(token_hash: str) -> str:
    """The Redis key marking the session of this token hash as revoked."""
    return f"{KEY_PREFIX}:{token_hash}"


def note(token_hashes: Iterable[str]) -> None:
    """Remember hashes revoked by the current request, to be marked when it is done."""
    pending = _REVOKED.get()
    if pending is not None:
        pending.extend(token_hashes)


def start_collecting() -> Token[list[str] | None]:
    """Collect the current request's revocations; give the token to `collected`."""
    return _REVOKED.set([])


def collected(token: Token[list[str] | None]) -> list[str]:
    """The hashes noted since `start_collecting`, and stop collecting."""
    hashes = _REVOKED.get() or []
    _REVOKED.reset(token)
    return hashes


async def mark(redis: Redis, token_hashes: Iterable[str], ttl_seconds: int) -> None:
    """Mark the sessions revoked for `ttl_seconds` (raises `RedisError`)."""
    hashes = sorted(set(token_hashes))
    if not hashes:
        return
    async with redis.pipeline(transaction=False) as pipe:
        for token_hash in hashes:
            pipe.set(revoked_key(token_hash), b"1", ex=ttl_seconds)
        await pipe.execute()
