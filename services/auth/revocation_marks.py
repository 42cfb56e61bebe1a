"""Marks the sessions a request revoked once its handler is done (kit/revoked_sessions.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web
from redis.exceptions import RedisError

from services.kit import revoked_sessions
from services.kit.app import REDIS

from .context import AUTH

log = structlog.get_logger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def mark_revoked_sessions(request: web.Request, handler: Handler) -> web.StreamResponse:
    """After the handler (its transaction committed or rolled back), mark what it revoked,
    for as long as a JWT of those sessions may live; then answer.

    A rolled-back revocation marked anyway only makes the gateway ask auth once more, which
    then accepts the session: harmless, where a mark missing would not be."""
    token = revoked_sessions.start_collecting()
    try:
        return await handler(request)
    finally:
        hashes = revoked_sessions.collected(token)
        if hashes:
            try:
                await revoked_sessions.mark(
                    request.app[REDIS], hashes, request.app[AUTH].settings.token_ttl_seconds
                )
            except (RedisError, OSError) as exc:
                # The gateway's cache then ends them within its minute, as without marks.
                log.warning(
                    "revoked_sessions_unmarked", count=len(hashes), error=type(exc).__name__
                )
