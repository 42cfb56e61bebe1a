"""The bookings service: activities, periods, openings, registrations, reservations."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from services.kit.app import ServiceSpec, create_service_app
from services.kit.settings import load_settings_or_exit

from .clock import CLOCK, Clock, system_clock
from .config import BookingsSettings
from .models import OutboxMessage
from .views import routes

MIGRATIONS = Path(__file__).parent / "migrations"


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
    app[CLOCK] = clock
    return app


def main() -> None:
    """Run the service on its configured host and port."""
    settings = load_settings_or_exit(BookingsSettings)
    web.run_app(create_app(settings), host=settings.host, port=settings.port, access_log=None)


if __name__ == "__main__":
    main()
