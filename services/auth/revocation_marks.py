"""Marks the sessions and API clients a request revoked once its handler is done
(kit/revoked_sessions.py, kit/revoked_clients.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web
from redis.exceptions import RedisError

from services.kit import revoked_clients, revoked_sessions
from services.kit.app import REDIS

from .context import AUTH

log = structlog.get_logger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def mark_revoked_sessions(request: web.Request, handler: Handler) -> web.StreamResponse:
    """After the handler (its transaction committed or rolled back), mark the sessions and
    API clients it revoked, for as long as a JWT of theirs may live; then answer.

    A rolled-back session revocation marked anyway only makes the gateway ask auth once
    more, which then accepts the session: harmless, where a mark missing would not be. A
    client is noted only once its revocation committed (a mark refuses its tokens outright).
    """
    sessions_token = revoked_sessions.start_collecting()
    clients_token = revoked_clients.start_collecting()
    try:
        return await handler(request)
    finally:
        hashes = revoked_sessions.collected(sessions_token)
        client_ids = revoked_clients.collected(clients_token)
        if hashes or client_ids:
            await _mark(request, hashes, client_ids)


async def _mark(request: web.Request, hashes: list[str], client_ids: list[str]) -> None:
    redis, ttl = request.app[REDIS], request.app[AUTH].settings.token_ttl_seconds
    try:
        await revoked_sessions.mark(redis, hashes, ttl)
        await revoked_clients.mark(redis, client_ids, ttl)
    except (RedisError, OSError) as exc:
        # Sessions then end within the gateway's cache minute, clients' tokens within their
        # lifetime: as without marks.
        log.warning(
            "revocations_unmarked",
            sessions=len(hashes),
            clients=len(client_ids),
            error=type(exc).__name__,
        )
