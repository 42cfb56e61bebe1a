"""Celery tasks of the documents service, scheduled by beat (`portail.worker` merges them).

Celery cannot run coroutines: each task runs its async body with `asyncio.run`, opening and
closing its own database engine and S3 client (a worker process has no app lifetime).
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any

import structlog
from celery import shared_task
from celery.schedules import crontab
from celery.signals import celeryd_init

from services.kit.database import Database
from services.kit.settings import load_settings, load_settings_or_exit

from .antivirus import Clamd
from .config import DocumentsSettings
from .maintenance import purge, rescan
from .storage import Storage

PURGE_TASK = "documents.purge"
RESCAN_TASK = "documents.rescan"
log = structlog.get_logger(__name__)

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    # At night, Paris time (the Celery app's timezone), when nobody uploads.
    "documents-purge": {"task": PURGE_TASK, "schedule": crontab(hour=3, minute=20)},
    # Files waiting for the antivirus get a new try every minute.
    "documents-rescan": {"task": RESCAN_TASK, "schedule": 60.0},
}


async def run_purge(settings: DocumentsSettings) -> dict[str, int]:
    """One retention purge with its own connections; returns what it removed."""
    database = Database(settings.database_url, pool_size=2)
    storage = Storage(settings)
    try:
        report = await purge(database, storage, orphan_grace=settings.orphan_grace_seconds)
        return asdict(report)
    finally:
        storage.close()
        await database.dispose()


async def run_rescan(settings: DocumentsSettings) -> int:
    """One antivirus retry pass; 0 when no clamd is configured."""
    if not settings.antivirus_enabled:
        return 0
    database = Database(settings.database_url, pool_size=2)
    storage = Storage(settings)
    clamd = Clamd(settings.clamd_host, settings.clamd_port, timeout=settings.clamd_timeout_seconds)
    try:
        return await rescan(database, storage, clamd)
    finally:
        storage.close()
        await database.dispose()


@shared_task(name=PURGE_TASK, ignore_result=True)  # type: ignore[untyped-decorator]
def purge_task() -> dict[str, int]:
    """Delete submissions past retention with their S3 objects, then orphan objects."""
    return asyncio.run(run_purge(load_settings(DocumentsSettings)))


@shared_task(name=RESCAN_TASK, ignore_result=True)  # type: ignore[untyped-decorator]
def rescan_task() -> int:
    """Give the antivirus another try on files still waiting for a verdict."""
    return asyncio.run(run_rescan(load_settings(DocumentsSettings)))


@celeryd_init.connect  # type: ignore[untyped-decorator]
def check_antivirus_at_worker_start(**_: Any) -> None:
    """A worker refuses to start where the documents service would (prod without clamd and
    without DOCUMENTS_ANTIVIRUS=off), rather than fail each task later; warns when it is off."""
    # Celery logs and swallows a receiver's exceptions: only SystemExit stops the start.
    settings = load_settings_or_exit(DocumentsSettings)
    if settings.antivirus_off_in_prod:
        log.warning("antivirus_off", reason="DOCUMENTS_ANTIVIRUS=off", uploads="not scanned")
