"""Nightly purge of the saves' idempotency keys past their retention.

A save's `Idempotency-Key` and its answer (`reservations.py`) let a retry after a timeout get
the first answer instead of booking again; a client retries within minutes, so after
`BOOKINGS_IDEMPOTENCY_KEYS_RETENTION_DAYS` (7) the row serves nobody and goes. Deleted a
batch per transaction, oldest first: each batch holds its rows' locks for a moment only, so
no save waits behind a night's whole purge.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from services.kit.database import Database
from services.kit.outbox import utcnow
from services.kit.retention import PURGE_BATCH, delete_older_than

from .models import IdempotencyRecord


async def purge_idempotency_keys(
    database: Database,
    *,
    older_than: timedelta,
    now: datetime | None = None,
    batch: int = PURGE_BATCH,
) -> int:
    """Delete the keys stored more than `older_than` ago; returns how many went. A retry
    sent later is a new save, as without a key."""
    return await delete_older_than(
        database,
        key=(IdempotencyRecord.family_id, IdempotencyRecord.key),
        created_at=IdempotencyRecord.created_at,
        cutoff=(now or utcnow()) - older_than,
        batch=batch,
    )
