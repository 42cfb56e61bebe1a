"""Typed application keys shared by the kit's pieces (no string keys, no module globals)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import ClientSession, web

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from .database import Database
    from .health import ReadinessChecks
    from .identity import TokenVerifier
    from .metrics import HttpMetrics
    from .settings import BaseServiceSettings

SETTINGS: web.AppKey[BaseServiceSettings] = web.AppKey("settings")
DATABASE: web.AppKey[Database] = web.AppKey("database")
HTTP_CLIENT: web.AppKey[ClientSession] = web.AppKey("http_client", ClientSession)
TOKEN_VERIFIER: web.AppKey[TokenVerifier] = web.AppKey("token_verifier")
METRICS: web.AppKey[HttpMetrics] = web.AppKey("metrics")
READINESS: web.AppKey[ReadinessChecks] = web.AppKey("readiness")
REDIS: web.AppKey[Redis] = web.AppKey("redis")
