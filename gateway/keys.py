"""Typed application and request keys of the gateway (no string keys, no module globals)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import ClientSession, web
from redis.asyncio import Redis

if TYPE_CHECKING:
    from .breaker import Breakers
    from .config import GatewaySettings
    from .i18n import Translator
    from .ratelimit import RateLimiter
    from .session import SessionExchange, SessionState
    from .upstream_metrics import UpstreamMetrics

GATEWAY_SETTINGS: web.AppKey[GatewaySettings] = web.AppKey("gateway_settings")
REDIS: web.AppKey[Redis] = web.AppKey("gateway_redis", Redis)
UPSTREAM_CLIENT: web.AppKey[ClientSession] = web.AppKey("upstream_client", ClientSession)
BREAKERS: web.AppKey[Breakers] = web.AppKey("breakers")
RATE_LIMITER: web.AppKey[RateLimiter] = web.AppKey("rate_limiter")
SESSIONS: web.AppKey[SessionExchange] = web.AppKey("sessions")
UPSTREAM_METRICS: web.AppKey[UpstreamMetrics] = web.AppKey("upstream_metrics")

# Per request: the browser session (if any), the CSP nonce, the language and its translator.
SESSION: web.RequestKey[SessionState | None] = web.RequestKey("session")
CSP_NONCE: web.RequestKey[str] = web.RequestKey("csp_nonce")
LANGUAGE: web.RequestKey[str] = web.RequestKey("language")
TRANSLATOR: web.RequestKey[Translator] = web.RequestKey("translator")
# The session's cached JWT, read by the rate limiter in its own Redis call (None: not cached).
CACHED_JWT: web.RequestKey[bytes | None] = web.RequestKey("cached_jwt")
