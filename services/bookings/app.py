"""The bookings service: activities, periods, openings, registrations, reservations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from services.kit.app import ServiceSpec, create_service_app
from services.kit.event_loop import run_web_app
from services.kit.problems import NotFound
from services.kit.settings import load_settings_or_exit

from .clock import CLOCK, Clock, system_clock
from .config import BookingsSettings
from .models import OutboxMessage
from .views import routes

MIGRATIONS = Path(__file__).parent / "migrations"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def create_app(settings: BookingsSettings, *, clock: Clock = system_clock) -> web.Application:
    """The bookings application for these settings; tests pass a frozen `clock`."""
    spec = ServiceSpec(
        title="Portail Famille — bookings",
        version="0.1.0",
        routes=routes,
        migrations_dir=MIGRATIONS,
        outbox_model=OutboxMessage,
    )
    app = create_service_app(settings, spec)
    app.middlewares.append(path_ids_middleware)
    app[CLOCK] = clock
    return app


MAX_ID_LENGTH = 36  # our ids, and the families' ids we store, are UUIDs


@web.middleware
async def path_ids_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """An id in the path that no row could have (too long, NUL) answers 404 before any query."""
    for value in request.match_info.values():
        if len(value) > MAX_ID_LENGTH or "\x00" in value:
            raise NotFound("No resource at this address.")
    return await handler(request)


def main() -> None:
    """Run the service on its configured host and port."""
    settings = load_settings_or_exit(BookingsSettings)
    run_web_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        reuse_port=settings.reuse_port or None,
    )


if __name__ == "__main__":
    main()
