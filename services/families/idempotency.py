"""`Idempotency-Key` on creations: a retry after a timeout replays the first answer instead
of creating the record a second time.

As bookings' saves (`services/bookings/reservations.py`), the key is stored with its answer
in the creation's own transaction: the record and its key are written together, or
neither. On top of bookings' scheme, the body's fingerprint is kept (the same key with
another body is refused, never answered with a record it did not ask for), and a retry
sent while the first is still running answers 409 at once rather than waiting for it.

Keys are the caller's own (`role:subject`): one client's key never finds another's answer.
They are kept `FAMILIES_IDEMPOTENCY_KEYS_RETENTION_DAYS` (7) days, then the nightly task
(`tasks.py`) purges them: a retry comes within minutes, not weeks.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.kit.database import Database
from services.kit.identity import Identity
from services.kit.outbox import utcnow
from services.kit.problems import BadRequest, Conflict, Problem
from services.kit.retention import PURGE_BATCH, delete_older_than

from .models import IdempotencyKey

HEADER = "Idempotency-Key"
# The same alphabet and length as bookings' keys: a UUID, a ULID or a system's own id fit.
KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")

# One lock per caller and key, for the transaction's life: a twin tries it and, finding it
# taken, answers 409 instead of queueing behind the first (the primary key stays the
# backstop). SQLite needs none: its writers already take turns (BEGIN IMMEDIATE).
_TRY_LOCK = text("SELECT pg_try_advisory_xact_lock(hashtextextended(:name, 0))").bindparams(
    bindparam("name")
)


class KeyInFlight(Conflict):
    """A request with this key is still running: retry once it has answered."""

    slug = "idempotency-key-in-flight"
    title = "A request with this Idempotency-Key is in progress"


class KeyReused(Problem):
    """The key was already used with another body: a new operation needs a new key."""

    status, slug, title = 422, "idempotency-key-reused", "Idempotency-Key reused"


@dataclass(frozen=True)
class Claim:
    """A key presented with a request: who sent it, and what the request was."""

    caller: str
    key: str
    fingerprint: str


class Replay(Exception):
    """The key's request already ran: answer `status` and `response` again."""

    def __init__(self, status: int, response: dict[str, Any]) -> None:
        super().__init__("replay")
        self.status = status
        self.response = response

    def as_response(self) -> web.Response:
        """The first answer, marked as replayed."""
        return web.json_response(
            self.response, status=self.status, headers={"Idempotent-Replayed": "true"}
        )


def claim_of(request: web.Request, identity: Identity, body: BaseModel) -> Claim | None:
    """The request's key (None without the header); 400 when it is not a valid key."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not KEY.match(key):
        raise BadRequest(f"{HEADER}: 1 to 100 letters, digits or _ . : -")
    return Claim(
        caller=f"{identity.role}:{identity.subject}",
        key=key,
        fingerprint=fingerprint(f"{request.method} {request.path}", body),
    )


def fingerprint(operation: str, body: BaseModel) -> str:
    """SHA-256 of the operation and the fields sent (their order and spacing do not count)."""
    sent = body.model_dump(mode="json", exclude_unset=True)
    canonical = json.dumps([operation, sent], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def lock_name(claim: Claim) -> str:
    """The text the key's advisory lock is hashed from (a key holds no space: unambiguous)."""
    return f"families.idempotency {claim.caller} {claim.key}"


async def take(session: AsyncSession, claim: Claim) -> None:
    """Hold the key for this transaction, or raise: `Replay` when it already ran with this
    body, `KeyReused` with another, `KeyInFlight` while a twin holds it."""
    if session.get_bind().dialect.name == "postgresql":
        if not (await session.execute(_TRY_LOCK, {"name": lock_name(claim)})).scalar():
            raise KeyInFlight(
                "Une demande avec cette clé d'idempotence est en cours : réessayez dans un instant."
            )
    stored = await session.get(IdempotencyKey, (claim.caller, claim.key))
    if stored is None:
        return
    if stored.fingerprint != claim.fingerprint:
        raise KeyReused(
            "Cette clé d'idempotence a déjà servi pour une autre demande : "
            "utilisez une nouvelle clé pour une nouvelle opération."
        )
    raise Replay(stored.status, stored.response)


def keep(session: AsyncSession, claim: Claim, *, status: int, response: BaseModel) -> None:
    """Store the answer under the key, in the transaction that made it."""
    session.add(
        IdempotencyKey(
            caller=claim.caller,
            key=claim.key,
            fingerprint=claim.fingerprint,
            status=status,
            response=response.model_dump(mode="json"),
            created_at=utcnow(),
        )
    )


async def purge_expired(
    database: Database,
    *,
    older_than: timedelta,
    now: datetime | None = None,
    batch: int = PURGE_BATCH,
) -> int:
    """Delete the keys stored more than `older_than` ago, `batch` per transaction, oldest
    first; returns how many went. A retry sent later creates anew, as without a key."""
    return await delete_older_than(
        database,
        key=(IdempotencyKey.caller, IdempotencyKey.key),
        created_at=IdempotencyKey.created_at,
        cutoff=(now or utcnow()) - older_than,
        batch=batch,
    )
