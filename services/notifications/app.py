"""The notifications service: the journal, e-mails, contact messages and news.

Its HTTP side reads what the event consumer (`tasks.py`, run by `portail worker`) wrote.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from services.kit.app import ServiceSpec, create_service_app
from services.kit.event_loop import run_web_app
from services.kit.settings import load_settings_or_exit

from . import views, views_contact, views_export, views_mail
from .config import NotificationsSettings
from .keys import NOTIFICATIONS_SETTINGS
from .relay import email_relay_ctx

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: NotificationsSettings) -> web.Application:
    """The notifications application for these settings."""
    spec = ServiceSpec(
        title="Portail Famille — notifications",
        version="0.1.0",
        routes=[*views.routes, *views_mail.routes, *views_contact.routes, *views_export.routes],
        migrations_dir=MIGRATIONS,
    )
    app = create_service_app(settings, spec)
    app[NOTIFICATIONS_SETTINGS] = settings
    if settings.email_relay_enabled:
        app.cleanup_ctx.append(email_relay_ctx(settings))
    return app


def main() -> None:
    """Run the service on its configured host and port."""
    settings = load_settings_or_exit(NotificationsSettings)
    run_web_app(create_app(settings), host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
