"""Revoked API clients, marked in Redis so that every service refuses their tokens at once.

A municipal system's token (client credentials, role `service`, `sub` = `client:<id>`) lives
`AUTH_TOKEN_TTL_SECONDS` (5 minutes) and every service verifies it locally. When an
administrator revokes the client, auth marks it here, `auth:revoked-client:<client id>`, for
that lifetime, before it answers; the kit's identity middleware reads the mark (one `EXISTS`)
for client tokens only — browser and staff tokens cost no Redis call.

Within a request, `note` collects the clients a handler revoked (after its transaction
committed) and auth's `mark_revoked_sessions` middleware writes them before the answer leaves.

If Redis is down the middleware lets client tokens through (their signature and expiry still
hold, so the 5 minutes are the bound, as before) and logs it at most once per interval.
"""

from __future__ import annotations

import time
from contextvars import ContextVar, Token

import structlog
from redis.asyncio import Redis

KEY_PREFIX = "auth:revoked-client"
CLIENT_SUBJECT_PREFIX = "client:"
UNCHECKED_LOG_INTERVAL_SECONDS = 10.0

log = structlog.get_logger(__name__)

# The client ids revoked by the request being handled (None outside a marking middleware).
_REVOKED: ContextVar[list[str] | None] = ContextVar("revoked_client_ids", default=None)


def revoked_key(client_id: str) -> str:
    """The Redis key marking this API client as revoked."""
    return f"{KEY_PREFIX}:{client_id}"


def client_of(subject: str) -> str | None:
    """The API client id a token's `sub` names (`client:<id>`), if it is a client's."""
    if subject.startswith(CLIENT_SUBJECT_PREFIX):
        return subject.removeprefix(CLIENT_SUBJECT_PREFIX) or None
    return None


def note(client_id: str) -> None:
    """Remember a client revoked by the current request, to be marked when it is done."""
    pending = _REVOKED.get()
    if pending is not None:
        pending.append(client_id)


def start_collecting() -> Token[list[str] | None]:
    """Collect the current request's client revocations; give the token to `collected`."""
    return _REVOKED.set([])


def collected(token: Token[list[str] | None]) -> list[str]:
    """The client ids noted since `start_collecting`, and stop collecting."""
    client_ids = _REVOKED.get() or []
    _REVOKED.reset(token)
    return client_ids


async def mark(redis: Redis, client_ids: list[str], ttl_seconds: int) -> None:
    """Mark the clients revoked for `ttl_seconds` (raises `RedisError`)."""
    ids = sorted(set(client_ids))
    if not ids:
        return
    async with redis.pipeline(transaction=False) as pipe:
        for client_id in ids:
            pipe.set(revoked_key(client_id), b"1", ex=ttl_seconds)
        await pipe.execute()


async def is_revoked(redis: Redis, client_id: str) -> bool:
    """Whether auth marked this client revoked (raises `RedisError`)."""
    return bool(await redis.exists(revoked_key(client_id)))


class UncheckedLog:
    """Logs that client tokens went unchecked (Redis down), at most once per interval: an
    outage must not flood the logs with one line per API call."""

    def __init__(self, interval_seconds: float = UNCHECKED_LOG_INTERVAL_SECONDS) -> None:
        self._interval = interval_seconds
        self._last_logged = float("-inf")

    def report(self, error: Exception) -> None:
        """Log `error` unless one was logged within the interval."""
        now = time.monotonic()
        if now - self._last_logged >= self._interval:
            self._last_logged = now
            log.warning("revoked_clients_unchecked", error=type(error).__name__)
