"""A few minutes' memory of one browser session, in Redis, for post/redirect/get.

A form the services refused, or the results of a batch of decisions, must reach the page
the POST redirects to, so that the browser's reload shows that page again instead of posting
once more. They are kept under a hash of the session's token (never the token): another
session, or a visitor without one, reads nothing there, whatever link it forges. Without
Redis nothing is kept and the caller answers the POST itself, as before the redirect.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import structlog
from aiohttp import web
from redis.exceptions import RedisError

from .keys import GATEWAY_SETTINGS, REDIS, SESSION

log = structlog.get_logger(__name__)


def _key(request: web.Request, name: str) -> str | None:
    session = request.get(SESSION)
    if session is None:
        return None
    owner = hashlib.sha256(session.token.encode()).hexdigest()
    prefix = request.app[GATEWAY_SETTINGS].redis_key_prefix
    return f"{prefix}:stash:{owner}:{name}"


async def keep(request: web.Request, name: str, value: Any, *, seconds: int) -> bool:
    """Keep `value` (JSON) under `name` for this session; False when it cannot be kept."""
    key = _key(request, name)
    if key is None:
        return False
    try:
        await request.app[REDIS].set(key, json.dumps(value), ex=seconds)
    except RedisError as exc:
        log.warning("session_stash_unavailable", name=name, error=type(exc).__name__)
        return False
    return True


async def read(request: web.Request, name: str) -> Any | None:
    """What this session kept under `name`, or None (nothing, expired, or Redis down)."""
    key = _key(request, name)
    if key is None:
        return None
    try:
        kept = await request.app[REDIS].get(key)
    except RedisError as exc:
        log.warning("session_stash_unavailable", name=name, error=type(exc).__name__)
        return None
    return json.loads(kept) if kept else None


async def forget(request: web.Request, name: str) -> None:
    """Drop what this session kept under `name`."""
    key = _key(request, name)
    if key is None:
        return
    try:
        await request.app[REDIS].delete(key)
    except RedisError as exc:
        log.warning("session_stash_unavailable", name=name, error=type(exc).__name__)
