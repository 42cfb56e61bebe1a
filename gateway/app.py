"""The gateway: the portal's only public entry (web app, `/api/<service>/…`, limits, identity).

Middlewares run outermost first, and the order matters:
1. request id  — every log line below, errors included, carries it; forwarded upstream;
2. access log  — one JSON line per request, with the final status;
3. metrics     — counts the same final status;
4. language    — error pages below are rendered in the caller's language;
5. errors      — any failure below becomes problem+json (`/api/`) or a French page;
6. rate limit  — before anything costs something (a call to auth, a body read);
7. body limit  — refuses a declared oversized body before anything reads it;
8. CSRF        — refuses cross-site state changes before the session is even looked up;
9. session     — exchanges the session cookie for the JWT forwarded to the services.
Security headers, the language cookie and the removal of a dead session's cookie are set in
`on_response_prepare`, the one hook every response passes, streamed and error ones included.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web
from redis.asyncio import Redis

from services.kit.event_loop import run_web_app
from services.kit.guards import control_characters_middleware
from services.kit.health import ReadinessChecks, healthz
from services.kit.http_client import create_http_client
from services.kit.identity import TokenVerifier
from services.kit.keys import METRICS, READINESS
from services.kit.logs import access_log_middleware, configure_logging
from services.kit.metrics import HttpMetrics, metrics_middleware
from services.kit.request_context import request_id_middleware
from services.kit.settings import load_settings_or_exit

from .api_index import api_index
from .bodylimit import body_limit_middleware
from .breaker import Breakers
from .config import GatewaySettings
from .csrf import csrf_middleware
from .errors import error_middleware
from .headers import add_security_headers
from .i18n import TRANSLATORS, language_middleware, load_catalogs, remember_language
from .keys import (
    BREAKERS,
    GATEWAY_SETTINGS,
    RATE_LIMITER,
    REDIS,
    SESSIONS,
    UPSTREAM_CLIENT,
    UPSTREAM_METRICS,
)
from .ops import metrics, readyz
from .pages import load_pages
from .proxy import proxy
from .ratelimit import RateLimiter, RateLimitTable, rate_limit_middleware
from .rendering import setup_templates
from .session import SessionExchange, forget_expired_session, session_middleware
from .upstream_metrics import UpstreamMetrics


def create_app(settings: GatewaySettings) -> web.Application:
    """The gateway application for these settings."""
    configure_logging(settings.service_name, settings.log_level)
    app = web.Application(
        client_max_size=settings.max_json_body_bytes,
        middlewares=[
            request_id_middleware,
            access_log_middleware,
            metrics_middleware,
            language_middleware,
            error_middleware,
            # A NUL in a page's address would reach a service as an id it answers 400 to,
            # which no page expects (a 500): refused here, as a French 400 page.
            control_characters_middleware,
            rate_limit_middleware,
            body_limit_middleware,
            csrf_middleware,
            session_middleware,
        ],
    )
    app[GATEWAY_SETTINGS] = settings
    app[METRICS] = HttpMetrics(settings.service_name)
    app[UPSTREAM_METRICS] = UpstreamMetrics(app[METRICS].registry)
    app[READINESS] = ReadinessChecks()
    app[BREAKERS] = Breakers(settings.breaker_failure_threshold, settings.breaker_reset_seconds)
    app[TRANSLATORS] = load_catalogs()
    # Fail at start, not at the first request, on a malformed rate-limit table.
    table = RateLimitTable.from_file(settings.rate_limits_file)
    app.cleanup_ctx.append(_resources_ctx(table))
    app.on_response_prepare.extend(
        [add_security_headers, remember_language, forget_expired_session]
    )
    setup_templates(app)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/api", api_index)
    app.router.add_get("/api/", api_index)
    app.router.add_route("*", "/api/{service}/{tail:.*}", proxy, name="proxy")
    load_pages(app)
    return app


def _resources_ctx(table: RateLimitTable):  # type: ignore[no-untyped-def]
    async def resources_ctx(app: web.Application) -> AsyncIterator[None]:
        settings = app[GATEWAY_SETTINGS]
        redis = Redis.from_url(settings.redis_url, socket_timeout=1, socket_connect_timeout=0.5)
        http = create_http_client(
            settings.upstream_deadline_seconds,
            connect_timeout=settings.upstream_connect_timeout_seconds,
        )
        app[REDIS] = redis
        app[UPSTREAM_CLIENT] = http
        app[RATE_LIMITER] = RateLimiter(redis, table, prefix=f"{settings.redis_key_prefix}:rl")
        app[SESSIONS] = SessionExchange(
            auth_url=settings.service_urls()["auth"],
            redis=redis,
            http=lambda: app[UPSTREAM_CLIENT],
            verifier=TokenVerifier(
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
                jwks_url=settings.jwks_url,
                jwks_json=settings.jwks_json,
                http=lambda: app[UPSTREAM_CLIENT],
            ),
            deadline_seconds=settings.upstream_deadline_seconds,
            cache_max_seconds=settings.jwt_cache_max_seconds,
            cache_prefix=f"{settings.redis_key_prefix}:jwt",
        )

        async def redis_ping() -> None:
            await redis.ping()

        app[READINESS].add("redis", redis_ping)
        yield
        await http.close()
        await redis.aclose()

    return resources_ctx


def main() -> None:
    """Run the gateway on its configured host and port (GATEWAY_HOST, GATEWAY_PORT)."""
    settings = load_settings_or_exit(GatewaySettings)
    run_web_app(create_app(settings), host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
