"""Creations' idempotency keys are purged nightly past FAMILIES_IDEMPOTENCY_KEYS_RETENTION_DAYS
(7 by default), a batch per transaction; recent keys, and their replays, stay."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.families import idempotency
from services.families.app import create_app
from services.families.config import FamiliesSettings
from services.families.models import IdempotencyKey
from services.kit.database import Database
from services.kit.keys import DATABASE
from services.kit.outbox import utcnow
from services.kit.testing import TestSigner
from tests import support

from .conftest import FamiliesApi


async def _store_keys(database: Database, caller: str, ages_in_days: list[float]) -> None:
    """One stored key per age, named after it, for `caller`."""
    now = utcnow()
    async with database.transaction() as session:
        for n, age in enumerate(ages_in_days):
            session.add(
                IdempotencyKey(caller=caller, key=f"age-{age}-{n}", fingerprint="0" * 64,
                               status=201, response={"n": n},
                               created_at=now - timedelta(days=age))
            )  # fmt: skip


async def _keys_of(database: Database, caller: str) -> list[str]:
    async with database.sessions() as session:
        found = await session.scalars(
            select(IdempotencyKey.key).where(IdempotencyKey.caller == caller)
        )
        return sorted(found)


async def test_keys_past_retention_go_in_batches_recent_ones_stay(api: FamiliesApi) -> None:
    database, caller = api.client.app[DATABASE], f"service:purge-{uuid.uuid4().hex[:8]}"
    await _store_keys(database, caller, [30, 8, 8, 7.01, 6.99, 1, 0])

    removed = await idempotency.purge_expired(database, older_than=timedelta(days=7), batch=2)

    # Other tests' keys of this run are all recent: every removed key is one of ours.
    assert removed == 4
    assert await _keys_of(database, caller) == ["age-0-6", "age-1-5", "age-6.99-4"]
    assert await idempotency.purge_expired(database, older_than=timedelta(days=7)) == 0


async def test_a_recent_key_still_replays_after_the_purge(api: FamiliesApi) -> None:
    headers = {**api.system("families:write"), "Idempotency-Key": str(uuid.uuid4())}
    body = {"name": f"GARDE-{uuid.uuid4().hex[:8]}"}
    first = await api.client.post("/families", json=body, headers=headers)
    assert first.status == 201

    await idempotency.purge_expired(api.client.app[DATABASE], older_than=timedelta(days=7))

    again = await api.client.post("/families", json=body, headers=headers)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert await again.json() == await first.json()


async def test_the_nightly_task_purges_with_the_retention_setting(
    api: FamiliesApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    from portail.worker import WorkerSettings, create_worker_app
    from services.families.tasks import BEAT_SCHEDULE

    database, caller = api.client.app[DATABASE], f"service:nuit-{uuid.uuid4().hex[:8]}"
    await _store_keys(database, caller, [3, 1])
    monkeypatch.setenv("FAMILIES_DATABASE_URL", database.url)
    monkeypatch.setenv("FAMILIES_IDEMPOTENCY_KEYS_RETENTION_DAYS", "2")
    worker = create_worker_app(WorkerSettings(redis_url="redis://127.0.0.1:1/0"))
    entry = worker.conf.beat_schedule["families-purge-idempotency-keys"]
    assert entry == BEAT_SCHEDULE["families-purge-idempotency-keys"]
    assert entry["schedule"].hour == {3}  # at night, with the other purges

    removed = await asyncio.to_thread(worker.tasks["families.purge_idempotency_keys"])

    assert removed >= 1
    assert await _keys_of(database, caller) == ["age-1-1"]


def test_the_retention_is_a_week_unless_set() -> None:
    assert FamiliesSettings.model_fields["idempotency_keys_retention_days"].default == 7


async def test_the_purge_works_on_the_embedded_database_too(
    aiohttp_client: Any, signer: TestSigner, tmp_path: Path
) -> None:
    settings = FamiliesSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'families.sqlite'}",
        redis_url=support.redis_url(),
        jwks_json=json.dumps(signer.jwks),
        profile="test",
        run_migrations_at_start=True,
    )
    client = await aiohttp_client(create_app(settings))
    database = client.app[DATABASE]
    await _store_keys(database, "service:sqlite", [9, 8, 8, 2])

    removed = await idempotency.purge_expired(database, older_than=timedelta(days=7), batch=2)

    assert removed == 3
    assert await _keys_of(database, "service:sqlite") == ["age-2-3"]
