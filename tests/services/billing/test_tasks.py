"""Beat's side: the schedule, the monthly run's refusal without credentials, the worker's
reconciliation of a lost notification (the same code beat runs every 5 minutes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.billing import tasks
from services.billing.config import BillingSettings
from services.billing.payfip_simulator import SIMULATOR
from services.billing.storage import STORAGE
from services.kit.database import Database
from services.kit.http_client import create_http_client
from services.kit.keys import DATABASE, SETTINGS

from .conftest import Portal
from .test_payments import choose, issued_invoice, payments_of, start


@dataclass
class Runtime:
    """What the tasks use of a worker's runtime, on this test's loop."""

    settings: BillingSettings
    database: Database
    storage: Any
    http: Any


def test_beat_schedules_the_monthly_run_and_the_reconciliation_on_the_billing_queue() -> None:
    entries = {e["task"]: e for e in tasks.BEAT_SCHEDULE.values()}
    assert set(entries) == {tasks.MONTHLY_TASK, tasks.RECONCILE_TASK}
    assert all(e["options"]["queue"] == "billing" for e in entries.values())
    monthly = entries[tasks.MONTHLY_TASK]["schedule"]
    assert monthly.day_of_month == {1} and monthly.hour == {6}


async def test_the_monthly_run_without_credentials_is_refused_and_bills_nothing(
    portal: Portal,
) -> None:
    settings = portal.billing.app[SETTINGS]
    assert isinstance(settings, BillingSettings)
    http = create_http_client(5)
    try:
        runtime = Runtime(settings, portal.billing.app[DATABASE], portal.billing.app[STORAGE], http)
        outcome = await tasks.monthly_run_async(runtime, "2026-03")  # type: ignore[arg-type]
    finally:
        await http.close()
    assert outcome == "refused 2026-03: upstream-unavailable"
    assert await portal.sql("SELECT id FROM invoicing_runs") == []


async def test_the_workers_reconciliation_settles_a_lost_notification(portal: Portal) -> None:
    family, invoice = await issued_invoice(portal)
    portal.billing.app[SIMULATOR].lose_notifications = True
    started = await start(portal, family, invoice)
    await choose(portal, started, "P")
    settings = portal.billing.app[SETTINGS]
    assert isinstance(settings, BillingSettings)
    http = create_http_client(5)
    try:
        runtime = Runtime(settings, portal.billing.app[DATABASE], portal.billing.app[STORAGE], http)
        outcomes = await tasks.reconcile_async(runtime)  # type: ignore[arg-type]
    finally:
        await http.close()
    assert outcomes == {"paid": 1, "pdfs": 0}
    assert len(await payments_of(portal)) == 1
