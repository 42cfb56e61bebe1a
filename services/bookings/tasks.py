"""Celery tasks of the bookings service, scheduled by beat (`portail.worker` merges them).

Celery cannot run coroutines: the task runs its async body with `asyncio.run`, opening and
closing its own database engine (a worker process has no app lifetime), as documents' do.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import structlog
from celery import shared_task
from celery.schedules import crontab

from services.kit.database import Database
from services.kit.settings import load_settings

from .config import BookingsSettings
from .maintenance import purge_idempotency_keys

PURGE_IDEMPOTENCY_KEYS_TASK = "bookings.purge_idempotency_keys"
log = structlog.get_logger(__name__)

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    # At night, Paris time (the Celery app's timezone), when nobody books.
    "bookings-purge-idempotency-keys": {
        "task": PURGE_IDEMPOTENCY_KEYS_TASK,
        "schedule": crontab(hour=3, minute=26),
    },
}


async def run_purge_idempotency_keys(settings: BookingsSettings) -> int:
    """One purge of the keys past retention, with its own connections; returns how many."""
    database = Database(settings.database_url, pool_size=2)
    try:
        removed = await purge_idempotency_keys(
            database, older_than=timedelta(days=settings.idempotency_keys_retention_days)
        )
    finally:
        await database.dispose()
    log.info("idempotency_keys_purged", service="bookings", removed=removed)
    return removed


@shared_task(name=PURGE_IDEMPOTENCY_KEYS_TASK, ignore_result=True)  # type: ignore[untyped-decorator]
def purge_idempotency_keys_task() -> int:
    """Delete saves' idempotency keys older than BOOKINGS_IDEMPOTENCY_KEYS_RETENTION_DAYS."""
    return asyncio.run(run_purge_idempotency_keys(load_settings(BookingsSettings)))
