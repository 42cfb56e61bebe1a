"""The documents service: required documents, uploads to S3, org documents."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import structlog
from aiohttp import web

from services.kit.app import ServiceSpec, create_service_app
from services.kit.event_loop import run_web_app
from services.kit.keys import READINESS
from services.kit.settings import load_settings_or_exit

from .antivirus import Clamd
from .budget import MemoryBudget
from .config import DocumentsSettings
from .inspection import give_decoded_images_back
from .keys import CLAMD, DOCUMENTS_SETTINGS, STORAGE, UPLOAD_BUDGET
from .models import OutboxMessage
from .storage import Storage
from .views import routes
from .views_export import routes as export_routes

MIGRATIONS = Path(__file__).parent / "migrations"
log = structlog.get_logger(__name__)


def create_app(settings: DocumentsSettings) -> web.Application:
    """The documents application for these settings."""
    spec = ServiceSpec(
        title="Portail Famille — documents",
        version="0.2.0",
        routes=[*routes, *export_routes],
        migrations_dir=MIGRATIONS,
        outbox_model=OutboxMessage,
    )
    # The app-wide body limit stays the kit's small JSON one: upload routes read their
    # multipart body part by part and enforce `max_upload_bytes` themselves (uploads.py).
    app = create_service_app(settings, spec)
    app[DOCUMENTS_SETTINGS] = settings
    app[UPLOAD_BUDGET] = MemoryBudget(settings.upload_memory_budget_bytes)
    give_decoded_images_back()
    app.cleanup_ctx.append(_storage_ctx)
    return app


async def _storage_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[DOCUMENTS_SETTINGS]
    storage = Storage(settings)
    if settings.s3_create_bucket:
        try:
            await storage.ensure_bucket()
        except Exception as exc:
            # Not fatal: /readyz reports S3 until it answers; uploads answer 503 meanwhile.
            log.warning("s3_bucket_not_ready", error=type(exc).__name__)
    app[STORAGE] = storage
    app[READINESS].add("s3", storage.ping)
    clamd = None
    if settings.antivirus_enabled:
        clamd = Clamd(
            settings.clamd_host, settings.clamd_port, timeout=settings.clamd_timeout_seconds
        )
    app[CLAMD] = clamd
    if settings.antivirus_off_in_prod:
        log.warning("antivirus_off", reason="DOCUMENTS_ANTIVIRUS=off", uploads="not scanned")
    yield
    storage.close()


def main() -> None:
    """Run the service on its configured host and port."""
    settings = load_settings_or_exit(DocumentsSettings)
    run_web_app(create_app(settings), host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
