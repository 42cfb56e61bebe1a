"""The families service: families, persons, field policy, change requests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from services.kit.app import REDIS, ServiceSpec, create_service_app
from services.kit.event_loop import run_web_app
from services.kit.keys import DATABASE
from services.kit.settings import load_settings_or_exit

from .config import FamiliesSettings
from .lapses import mark_all_archived
from .models import OutboxMessage
from .views import routes

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: FamiliesSettings) -> web.Application:
    """The families application for these settings."""
    spec = ServiceSpec(
        title="Portail Famille — families",
        version="0.1.0",
        routes=routes,
        migrations_dir=MIGRATIONS,
        outbox_model=OutboxMessage,
    )
    app = create_service_app(settings, spec)
    # After the kit's contexts: the database (migrated) and Redis exist when this one starts.
    app.cleanup_ctx.append(_lapses_ctx)
    return app


async def _lapses_ctx(app: web.Application) -> AsyncIterator[None]:
    await mark_all_archived(app[DATABASE], app[REDIS])
    yield


def main() -> None:
    """Run the service on its configured host and port."""
    settings = load_settings_or_exit(FamiliesSettings)
    run_web_app(create_app(settings), host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
