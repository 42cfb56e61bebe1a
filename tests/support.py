"""Shared test plumbing: real PostgreSQL databases and Redis indexes, isolated per test run."""

from __future__ import annotations

import os
import uuid
from typing import Any

import asyncpg

from portail.registry import service
from services.kit.migrations import upgrade
from services.kit.settings import BaseServiceSettings

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_BASE_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
RUN_ID = os.environ.get("PORTAIL_TEST_RUN_ID") or uuid.uuid4().hex[:8]


def free_port() -> int:
    """A TCP port nobody listens on right now (for servers the tests start)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class HeldPort:
    """A port kept bound (not listening) until the server meant for it starts: the servers a
    fixture starts meanwhile on ephemeral ports cannot be given it by the OS, as they could
    a port `free_port` only probed (a full run saw « Address already in use »)."""

    def __init__(self) -> None:
        import socket

        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.port = int(self._socket.getsockname()[1])

    def release(self) -> int:
        """Free the port for its server, to be bound right away; returns it."""
        self._socket.close()
        return self.port


def worker_index() -> int:
    """0 without xdist, n for the xdist worker `gwn`."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(worker.removeprefix("gw") or 0)


def redis_url() -> str:
    """A Redis database index of this run's own: TEST_REDIS_DB, else one per xdist worker."""
    index = os.environ.get("TEST_REDIS_DB")
    return f"{REDIS_BASE_URL}/{index or 1 + worker_index() % 8}"


def database_name(service_name: str) -> str:
    """This run's database for a service."""
    return f"pf_{RUN_ID}_{worker_index()}_{service_name}"


def async_url(name: str) -> str:
    """The SQLAlchemy URL of the database `name` on the test server."""
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{name}"


async def create_database(name: str) -> None:
    """Create an empty database (dropping a leftover of the same name)."""
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def drop_database(name: str) -> None:
    """Drop a database, closing whatever still uses it."""
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def prepare_service_database(service_name: str) -> str:
    """Create and migrate this run's database of a service; returns its URL."""
    name = database_name(service_name)
    await create_database(name)
    url = async_url(name)
    import asyncio

    await asyncio.to_thread(upgrade, service(service_name).migrations_dir, url)
    return url


# Every auth app of a test run shares one database per xdist worker: they must all seal its
# signing keys with the same key, whichever test folder creates the first one.
AUTH_TEST_KEY_ENCRYPTION_KEY = "test-key-encryption-key-0123456789abcdef"
PER_SERVICE_DEFAULTS: dict[str, dict[str, Any]] = {
    "auth": {"key_encryption_key": AUTH_TEST_KEY_ENCRYPTION_KEY},
}


def service_settings(
    service_name: str, database_url: str, jwks: dict[str, Any], **extra: Any
) -> BaseServiceSettings:
    """Settings of a service pointed at this run's database, Redis and test signing key."""
    import json

    cls = service(service_name).settings_class()
    values: dict[str, Any] = {
        "database_url": database_url,
        "redis_url": redis_url(),
        "jwks_json": json.dumps(jwks),
        "profile": "test",
        # A service's calls to another (through a stand-in or the gateway) share the test's
        # one loop with everything else: under 200 requests at once, CI saw the 1 s connect
        # timeout measure the loop's lag, not the network. The tests that mean a timeout
        # set their own.
        "http_timeout_seconds": 10.0,
        "http_connect_timeout_seconds": 10.0,
        **PER_SERVICE_DEFAULTS.get(service_name, {}),
    }
    # An override may be spelt as the field or as its environment name: one spelling, so
    # that it replaces the default above instead of losing to it.
    names = {f.validation_alias: n for n, f in cls.model_fields.items() if f.validation_alias}
    overrides = {names.get(key, key): value for key, value in extra.items()}
    return cls(**{**values, **overrides})
