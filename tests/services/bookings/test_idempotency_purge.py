"""Saves' idempotency keys are purged nightly past BOOKINGS_IDEMPOTENCY_KEYS_RETENTION_DAYS
(7 by default), a batch per transaction; recent keys stay."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from services.bookings.config import BookingsSettings
from services.bookings.maintenance import purge_idempotency_keys
from services.bookings.models import IdempotencyRecord
from services.kit.database import Database
from services.kit.keys import DATABASE
from services.kit.outbox import utcnow


async def _store_keys(database: Database, family_id: str, ages_in_days: list[float]) -> None:
    """One stored key per age, named after it, for `family_id`."""
    now = utcnow()
    async with database.transaction() as session:
        for n, age in enumerate(ages_in_days):
            session.add(
                IdempotencyRecord(family_id=family_id, key=f"age-{age}-{n}",
                                  created_at=now - timedelta(days=age), response={"n": n})
            )  # fmt: skip


async def _keys_of(database: Database, family_id: str) -> list[str]:
    async with database.sessions() as session:
        found = await session.scalars(
            select(IdempotencyRecord.key).where(IdempotencyRecord.family_id == family_id)
        )
        return sorted(found)


async def test_keys_past_retention_go_in_batches_recent_ones_stay(bookings: TestClient) -> None:
    database, family_id = bookings.app[DATABASE], str(uuid.uuid4())
    await _store_keys(database, family_id, [30, 8, 8, 7.01, 6.99, 1, 0])

    removed = await purge_idempotency_keys(database, older_than=timedelta(days=7), batch=2)

    # Other tests' keys carry their frozen clock's date, which may be long past: they may go
    # too, so ours are checked by name.
    assert removed >= 4
    assert await _keys_of(database, family_id) == ["age-0-6", "age-1-5", "age-6.99-4"]


async def test_the_nightly_task_purges_with_the_retention_setting(
    bookings: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from portail.worker import WorkerSettings, create_worker_app
    from services.bookings.tasks import BEAT_SCHEDULE

    database, family_id = bookings.app[DATABASE], str(uuid.uuid4())
    await _store_keys(database, family_id, [3, 1])
    monkeypatch.setenv("BOOKINGS_DATABASE_URL", database.url)
    monkeypatch.setenv("BOOKINGS_IDEMPOTENCY_KEYS_RETENTION_DAYS", "2")
    worker = create_worker_app(WorkerSettings(redis_url="redis://127.0.0.1:1/0"))
    entry: dict[str, Any] = worker.conf.beat_schedule["bookings-purge-idempotency-keys"]
    assert entry == BEAT_SCHEDULE["bookings-purge-idempotency-keys"]
    assert entry["schedule"].hour == {3}  # at night, with the other purges

    removed = await asyncio.to_thread(worker.tasks["bookings.purge_idempotency_keys"])

    assert removed >= 1
    assert await _keys_of(database, family_id) == ["age-1-1"]


def test_the_retention_is_a_week_unless_set() -> None:
    assert BookingsSettings.model_fields["idempotency_keys_retention_days"].default == 7
