"""Fixtures of the notifications tests: an empty database of this run, a real SMTP server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import delete

from services.kit.database import Database
from services.notifications.models import Base

from ... import support
from .smtp_server import SmtpServer


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """aiosmtpd on a random port for this test, stopped at its end."""
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def database(service_databases: dict[str, str]) -> AsyncIterator[Database]:
    """This run's notifications database, every table emptied before the test."""
    if "notifications" not in service_databases:
        service_databases["notifications"] = await support.prepare_service_database("notifications")
    database = Database(service_databases["notifications"], pool_size=4)
    async with database.transaction() as session:
        for table in reversed(Base.metadata.sorted_tables):
            await session.execute(delete(table))
    yield database
    await database.dispose()


# The gateway's fixtures, for the pages driven through the real gateway.
from tests.gateway.conftest import gateway, upstream  # noqa: E402, F401
