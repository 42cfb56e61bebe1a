"""Ed25519 signing keys: kept encrypted in the database, published as JWKS, rotated safely.

Rotation never fails a request: a new key is published at once but signs only after
`key_activation_delay_seconds` (verifiers learn it first), and the key it replaces stays
published until every token it signed has expired.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.kit.database import Database
from services.kit.identity import TOKEN_ALGORITHM
from services.kit.outbox import record_event, utcnow

from . import events
from .config import AuthSettings
from .crypto import Sealer
from .models import OutboxMessage, SigningKey

KEYRING_CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class LoadedKey:
    """A decrypted signing key."""

    kid: str
    private_key: Ed25519PrivateKey
    public_jwk: dict[str, Any]
    activates_at: datetime


def _public_jwk(private_key: Ed25519PrivateKey, kid: str) -> dict[str, Any]:
    public: dict[str, Any] = json.loads(
        jwt.algorithms.OKPAlgorithm.to_jwk(private_key.public_key())
    )
    public.update({"kid": kid, "use": "sig", "alg": TOKEN_ALGORITHM})
    return public


async def _lock_keys(session: AsyncSession) -> None:
    # Replicas starting together must not each create a "first" key.
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('auth-signing-keys'))"))


async def add_key(session: AsyncSession, sealer: Sealer, *, activates_at: datetime) -> SigningKey:
    """Create a key, encrypted at rest, that signs from `activates_at`."""
    private_key = Ed25519PrivateKey.generate()
    kid = uuid.uuid4().hex
    raw = private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    row = SigningKey(
        kid=kid,
        private_key_enc=sealer.seal(raw, kid),
        public_jwk=_public_jwk(private_key, kid),
        created_at=utcnow(),
        activates_at=activates_at,
    )
    session.add(row)
    await session.flush()
    return row


async def ensure_key(database: Database, sealer: Sealer) -> None:
    """Create the first key at first start (signs immediately: nobody knows an older one)."""
    async with database.transaction() as session:
        await _lock_keys(session)
        if await session.scalar(select(SigningKey.kid).limit(1)) is None:
            await add_key(session, sealer, activates_at=utcnow())


async def rotate(
    database: Database, sealer: Sealer, settings: AuthSettings, *, actor: str
) -> SigningKey:
    """Publish a new key now; it signs after the activation delay."""
    async with database.transaction() as session:
        await _lock_keys(session)
        activates_at = utcnow() + timedelta(seconds=settings.key_activation_delay_seconds)
        row = await add_key(session, sealer, activates_at=activates_at)
        record_event(
            session,
            OutboxMessage,
            source=settings.service_name,
            event_type=events.SIGNING_KEY_ROTATED,
            data={"kid": row.kid, "activates_at": activates_at.isoformat(), "actor": actor},
        )
    return row


class KeyRing:
    """The keys as the running service sees them, reloaded from the database every few seconds."""

    def __init__(self, database: Database, sealer: Sealer, settings: AuthSettings) -> None:
        self.database = database
        self.sealer = sealer
        self.settings = settings
        self._keys: list[LoadedKey] = []
        self._published: list[dict[str, Any]] = []
        self._loaded_at = float("-inf")

    async def load(self) -> None:
        """Read the keys that are still published and decrypt them."""
        now = utcnow()
        async with self.database.sessions() as session:
            rows = list(
                (await session.scalars(select(SigningKey).order_by(SigningKey.activates_at))).all()
            )
        # A key signs until the next active key takes over; its tokens live `token_ttl` more.
        keep = timedelta(seconds=self.settings.token_ttl_seconds * 2 + 60)
        published: list[SigningKey] = []
        for index, row in enumerate(rows):
            successor = next((r for r in rows[index + 1 :] if r.activates_at <= now), None)
            if successor is None or now - successor.activates_at < keep:
                published.append(row)
        self._keys = [
            LoadedKey(
                kid=row.kid,
                private_key=Ed25519PrivateKey.from_private_bytes(
                    self.sealer.open(row.private_key_enc, row.kid)
                ),
                public_jwk=row.public_jwk,
                activates_at=row.activates_at,
            )
            for row in published
        ]
        self._published = [row.public_jwk for row in reversed(published)]
        self._loaded_at = time.monotonic()

    async def _fresh(self) -> None:
        if time.monotonic() - self._loaded_at >= KEYRING_CACHE_SECONDS:
            await self.load()

    async def signing_key(self) -> LoadedKey:
        """The newest key whose activation time has come."""
        await self._fresh()
        now = utcnow()
        active = [k for k in self._keys if k.activates_at <= now]
        if not active:
            await self.load()
            active = [k for k in self._keys if k.activates_at <= now]
        return active[-1]

    async def jwks(self) -> dict[str, Any]:
        """The public keys verifiers should know: pending, current and recent previous ones."""
        await self._fresh()
        return {"keys": list(self._published)}

    async def public_key(self, kid: str) -> jwt.PyJWK | None:
        """A published key by id, for verifying our own tokens without an HTTP round trip."""
        await self._fresh()
        for key in self._keys:
            if key.kid == kid:
                return jwt.PyJWK(key.public_jwk, algorithm=TOKEN_ALGORITHM)
        if time.monotonic() - self._loaded_at >= 1.0:
            await self.load()
            return next(
                (
                    jwt.PyJWK(k.public_jwk, algorithm=TOKEN_ALGORITHM)
                    for k in self._keys
                    if k.kid == kid
                ),
                None,
            )
        return None
