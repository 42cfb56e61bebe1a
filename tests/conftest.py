"""Fixtures every test can use: real PostgreSQL and Redis, and a test signing key."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
import redis
from aiohttp import web
from aiohttp.test_utils import TestClient

from portail.registry import service
from services.kit.testing import TestSigner

from . import support


@pytest.fixture(scope="session")
def signer() -> TestSigner:
    """The key that signs every test token; services trust it through JWKS_JSON."""
    return TestSigner()


@pytest.fixture(scope="session")
def service_databases() -> Iterator[dict[str, str]]:
    """This run's migrated database per service, created on first use, dropped at the end."""
    urls: dict[str, str] = {}
    yield urls
    for name in urls:
        asyncio.run(support.drop_database(support.database_name(name)))


@pytest.fixture(scope="session", autouse=True)
def clean_redis() -> None:
    """Start from an empty Redis index of this worker's own."""
    redis.Redis.from_url(support.redis_url()).flushdb()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3-compatible server (moto's) over HTTP on a free port, for this test run."""
    from moto.server import ThreadedMotoServer

    port = support.free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


ServiceClientFactory = Callable[..., Awaitable[TestClient[web.Request, web.Application]]]


@pytest.fixture
async def service_client(
    aiohttp_client: Callable[..., Awaitable[TestClient[web.Request, web.Application]]],
    service_databases: dict[str, str],
    signer: TestSigner,
    request: pytest.FixtureRequest,
) -> AsyncIterator[ServiceClientFactory]:
    """Build a service's real app on this run's database (or `database_url=`) over HTTP."""

    async def make(name: str, **settings: object) -> TestClient[web.Request, web.Application]:
        database_url = settings.pop("database_url", None)
        if database_url is None and name not in service_databases:
            service_databases[name] = await support.prepare_service_database(name)
        uses_s3 = "s3_endpoint_url" in service(name).settings_class().model_fields
        if uses_s3 and "s3_endpoint_url" not in settings:
            # A service that stores files is ready only with its bucket: give it this run's S3.
            settings["s3_endpoint_url"] = request.getfixturevalue("s3_endpoint")
        module = __import__(f"{service(name).package}.app", fromlist=["create_app"])
        config = support.service_settings(
            name, str(database_url or service_databases[name]), signer.jwks, **settings
        )
        return await aiohttp_client(module.create_app(config))

    yield make
