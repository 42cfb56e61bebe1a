"""`create_service_app`: everything a service shares, wired in one call.

Middlewares run outermost first, in this order, and the order matters:
1. request id   — so that every log line below, errors included, carries it;
2. access log   — one line per request, with the final status after error rendering;
3. metrics      — counts the same final status;
4. problems     — turns any failure below into problem+json;
5. guards       — refuses control characters in the address before any handler sees them;
6. identity     — verifies the bearer token; its 401 is rendered by (4).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from redis.asyncio import Redis

from .database import Database
from .guards import control_characters_middleware
from .health import ReadinessChecks, healthz, readyz
from .http_client import create_http_client
from .identity import TokenVerifier, identity_middleware
from .keys import DATABASE, HTTP_CLIENT, METRICS, READINESS, SETTINGS, TOKEN_VERIFIER
from .keys import REDIS as REDIS  # with the other keys now (identity reads it); still here
from .logs import access_log_middleware, configure_logging
from .metrics import HttpMetrics, metrics_middleware, metrics_view
from .migrations import upgrade_async
from .openapi import build_document
from .outbox import AckStore, OutboxMessageMixin, OutboxRelay
from .problems import problem_middleware
from .queue import create_celery, publish_events
from .request_context import request_id_middleware
from .settings import BaseServiceSettings

CleanupContext = Callable[[web.Application], AsyncIterator[None]]
DEFAULT_MAX_BODY = 64 * 1024  # JSON APIs stay small; upload routes raise their own limit.


@dataclass(frozen=True)
class ServiceSpec:
    """What makes one service different from the others."""

    title: str
    version: str
    routes: Iterable[web.AbstractRouteDef]
    migrations_dir: Path
    outbox_model: type[OutboxMessageMixin] | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY


SERVICE_SPEC: web.AppKey[ServiceSpec] = web.AppKey("service_spec")


def create_service_app(settings: BaseServiceSettings, spec: ServiceSpec) -> web.Application:
    """A service application with the kit's middlewares, lifetimes and operational routes."""
    configure_logging(settings.service_name, settings.log_level)
    app = web.Application(
        client_max_size=spec.max_body_bytes,
        middlewares=[
            request_id_middleware,
            access_log_middleware,
            metrics_middleware,
            problem_middleware,
            control_characters_middleware,
            identity_middleware,
        ],
    )
    app[SETTINGS] = settings
    app[SERVICE_SPEC] = spec
    app[METRICS] = HttpMetrics(settings.service_name)
    app[READINESS] = ReadinessChecks()
    app.cleanup_ctx.extend([_http_client_ctx, _database_ctx(spec), _redis_ctx, _verifier_ctx])
    if spec.outbox_model is not None and settings.outbox_relay_in_process:
        app.cleanup_ctx.append(_outbox_relay_ctx(spec.outbox_model))
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_view)
    app.router.add_routes(spec.routes)

    document: dict[str, object] = {}

    async def openapi_view(_request: web.Request) -> web.Response:
        if not document:
            document.update(openapi_document(app))
        return web.json_response(document)

    app.router.add_get("/openapi.json", openapi_view)
    return app


def openapi_document(app: web.Application) -> dict[str, object]:
    """The OpenAPI document of a service app, as `/openapi.json` serves it (no start needed)."""
    spec = app[SERVICE_SPEC]
    return build_document(app, title=spec.title, version=spec.version)


async def _http_client_ctx(app: web.Application) -> AsyncIterator[None]:
    app[HTTP_CLIENT] = create_http_client(
        app[SETTINGS].http_timeout_seconds,
        connect_timeout=app[SETTINGS].http_connect_timeout_seconds,
    )
    yield
    await app[HTTP_CLIENT].close()


def _database_ctx(spec: ServiceSpec) -> CleanupContext:
    async def database_ctx(app: web.Application) -> AsyncIterator[None]:
        settings = app[SETTINGS]
        if settings.run_migrations_at_start:
            # A dev convenience only: deploy runs migrations as a one-shot job.
            await upgrade_async(spec.migrations_dir, settings.database_url)
        database = Database(
            settings.database_url,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
            # Its relay in another process hears of its commits by NOTIFY; in this process
            # the commit itself wakes the relay.
            notify_outbox_commits=not settings.outbox_relay_in_process,
        )
        app[DATABASE] = database
        app[READINESS].add("database", database.ping)
        yield
        await database.dispose()

    return database_ctx


async def _redis_ctx(app: web.Application) -> AsyncIterator[None]:
    redis = Redis.from_url(app[SETTINGS].redis_url, socket_timeout=2, socket_connect_timeout=1)
    app[REDIS] = redis
    app[READINESS].add("redis", _redis_ping(redis))
    yield
    await redis.aclose()


def _redis_ping(redis: Redis) -> Callable[[], Awaitable[None]]:
    async def ping() -> None:
        await redis.ping()

    return ping


async def _verifier_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    app[TOKEN_VERIFIER] = TokenVerifier(
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        jwks_url=settings.jwks_url,
        jwks_json=settings.jwks_json,
        http=lambda: app[HTTP_CLIENT],
    )
    yield


def _outbox_relay_ctx(model: type[OutboxMessageMixin]) -> CleanupContext:
    async def outbox_relay_ctx(app: web.Application) -> AsyncIterator[None]:
        settings = app[SETTINGS]
        celery = create_celery(settings.redis_url)
        relay = OutboxRelay(
            app[DATABASE],
            model,
            lambda messages: publish_events(celery, messages),
            AckStore(app[REDIS]),
            interval=settings.outbox_relay_interval_seconds,
            republish_after=settings.outbox_republish_after_seconds,
            keep_confirmed_for=settings.outbox_keep_confirmed_days * 86400,
            gather=settings.outbox_relay_gather_seconds,
        )
        task = asyncio.create_task(relay.run_forever(), name="outbox-relay")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        celery.close()

    return outbox_relay_ctx
