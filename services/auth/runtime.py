"""The auth context outside the web app (command line, seed), on the same settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis

from services.kit.database import Database

from .config import AuthSettings
from .context import AuthContext
from .crypto import Sealer, dev_key_encryption_key
from .passwords import Passwords
from .signing import KeyRing, ensure_key
from .throttle import Throttle
from .tokens import TokenIssuer


def key_encryption_key(settings: AuthSettings) -> str:
    """The configured key-encryption key; the dev and test profiles make one under var/."""
    if settings.key_encryption_key:
        return settings.key_encryption_key
    return dev_key_encryption_key()


async def build_context(settings: AuthSettings, database: Database, redis: Redis) -> AuthContext:
    """Everything the auth rules need, with a first signing key made if there is none."""
    sealer = Sealer(key_encryption_key(settings))
    await ensure_key(database, sealer)
    keyring = KeyRing(database, sealer, settings)
    await keyring.load()  # fails now, not at the first sign-in, if the key-encryption key is wrong
    return AuthContext(
        settings=settings,
        database=database,
        sealer=sealer,
        passwords=Passwords(settings),
        keyring=keyring,
        issuer=TokenIssuer(keyring, settings),
        throttle=Throttle(redis),
    )


@asynccontextmanager
async def standalone(settings: AuthSettings) -> AsyncIterator[AuthContext]:
    """An auth context with its own database engine and Redis client, closed afterwards."""
    database = Database(settings.database_url, pool_size=2)
    redis = Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=1)
    try:
        auth = await build_context(settings, database, redis)
        yield auth
        await auth.drain()
    finally:
        await redis.aclose()
        await database.dispose()
