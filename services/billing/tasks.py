"""Billing's Celery tasks, run by `portail worker`, scheduled by `portail beat`.

- `billing.monthly_run` (the 1st at 06:00, Paris): prepares the previous month's preview
  (and publishes it when `BILLING_AUTO_PUBLISH` is on). It reads bookings and families with
  billing's OAuth client (`BILLING_API_CLIENT_ID` / `_SECRET`). A month already invoiced is
  skipped, never billed twice.
- `billing.reconcile_payments` (every 5 minutes): asks PayFiP about every pending attempt
  (lost notifications), expires stale ones, and renders any PDF a publication could not.

Celery cannot run `async def`: each worker process keeps one loop and its resources.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import structlog
from celery import shared_task, signals
from celery.schedules import crontab

from services.kit.database import Database
from services.kit.event_loop import new_event_loop
from services.kit.http_client import create_http_client
from services.kit.problems import Problem
from services.kit.settings import load_settings

from . import invoicing, payments
from .clock import previous_month, today
from .config import BillingSettings
from .pdfs import render_missing_pdfs
from .storage import Storage
from .upstream import Upstream, service_authorization

log = structlog.get_logger(__name__)
T = TypeVar("T")
MONTHLY_TASK = "billing.monthly_run"
RECONCILE_TASK = "billing.reconcile_payments"

# Read by portail/worker.py.
BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "billing-monthly-run": {
        "task": MONTHLY_TASK,
        "schedule": crontab(day_of_month="1", hour=6, minute=0),
        "options": {"queue": "billing"},
    },
    "billing-reconcile-payments": {
        "task": RECONCILE_TASK,
        "schedule": 300.0,
        "options": {"queue": "billing"},
    },
}


class BillingRuntime:
    """One loop, database, HTTP client and bucket for every task of a worker process."""

    def __init__(self, settings: BillingSettings) -> None:
        self.settings = settings
        self.loop = new_event_loop()
        self.database = Database(settings.database_url, pool_size=2)
        self.storage = Storage(settings)
        self.http = self.loop.run_until_complete(self._http())
        self._lock = threading.Lock()

    async def _http(self) -> Any:
        return create_http_client(
            self.settings.http_timeout_seconds,
            connect_timeout=self.settings.http_connect_timeout_seconds,
        )

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` on this process's loop."""
        with self._lock:
            return self.loop.run_until_complete(coroutine)

    def close(self) -> None:
        """Close connections, then the loop."""
        try:
            self.run(self.http.close())
            self.run(self.database.dispose())
        finally:
            self.loop.close()


class _Holder:
    runtime: BillingRuntime | None = None
    pid: int = 0


def runtime() -> BillingRuntime:
    """This process's runtime, made on first use."""
    if _Holder.runtime is None or _Holder.pid != os.getpid():
        _Holder.runtime = BillingRuntime(load_settings(BillingSettings))
        _Holder.pid = os.getpid()
    return _Holder.runtime


@signals.worker_process_shutdown.connect  # type: ignore[untyped-decorator]
def _close_runtime(**_: Any) -> None:
    if _Holder.runtime is not None and _Holder.pid == os.getpid():
        _Holder.runtime.close()
        _Holder.runtime = None


async def monthly_run_async(current: BillingRuntime, month: str | None = None) -> str:
    """Prepare (and maybe publish) a month; returns what happened."""
    month = month or previous_month(today())
    settings = current.settings
    try:
        authorization = await service_authorization(current.http, settings)
        upstream = Upstream(current.http, settings, authorization)
        run = await invoicing.preview(
            current.database, upstream, settings, month=month, actor="beat"
        )
        if settings.auto_publish:
            await invoicing.publish(
                current.database,
                current.storage,
                settings,
                run_id=run.id,
                actor=invoicing.AUTOMATIC_RUN_ACTOR,
            )
            return f"published {month}"
        return f"preview {month}"
    except Problem as problem:
        # Already invoiced, a missing tariff, a service down: said in the log, retried by
        # staff from the page; nothing half-done was committed.
        log.warning("monthly_run_refused", month=month, reason=problem.detail)
        return f"refused {month}: {problem.slug}"


@shared_task(name=MONTHLY_TASK, acks_late=True)  # type: ignore[untyped-decorator]
def monthly_run(month: str | None = None) -> str:
    """The monthly invoicing run (beat, the 1st of each month)."""
    current = runtime()
    return current.run(monthly_run_async(current, month))


async def reconcile_async(current: BillingRuntime) -> dict[str, int]:
    """Settle pending attempts, expire stale ones, render missing PDFs."""
    settings = current.settings

    client_for = payments.attempt_clients(current.http, settings)
    outcomes = await payments.reconcile(current.database, client_for, settings)
    outcomes["pdfs"] = await render_missing_pdfs(current.database, current.storage, settings)
    return outcomes


@shared_task(name=RECONCILE_TASK, acks_late=True)  # type: ignore[untyped-decorator]
def reconcile_payments() -> dict[str, int]:
    """Reconciliation of PayFiP attempts (beat, every 5 minutes)."""
    current = runtime()
    outcomes = current.run(reconcile_async(current))
    log.info("payfip_reconciled", **outcomes)
    return outcomes
