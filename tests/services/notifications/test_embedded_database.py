"""The dev profile's embedded SQLite: the consumer and the sender work there too (naive
timestamps come back from SQLite; the code must compare them as UTC)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from portail.registry import service
from services.kit.database import Database
from services.kit.migrations import upgrade
from services.notifications.digest import owe_digest
from services.notifications.sending import SendOutcome
from services.notifications.service import list_journal

from .factories import event, invited, of_type, settings_for
from .mailing import deliver, send_pending
from .smtp_server import SmtpServer


async def test_events_emails_and_the_digest_on_sqlite(tmp_path: Path, smtp: SmtpServer) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'notifications.sqlite'}"
    await asyncio.to_thread(upgrade, service("notifications").migrations_dir, url)
    database = Database(url)
    settings = settings_for(smtp.port, digest_recipients="agent@example.org")
    family, account = str(uuid.uuid4()), str(uuid.uuid4())
    try:
        await deliver(database, settings, invited(family, "p@example.org", account_id=account))
        await deliver(database, settings, invited(family, "p@example.org", account_id=account))
        request = of_type("registration.requested", family, source="bookings", registration_id="r")
        await deliver(database, settings, request)
        async with database.transaction() as session:
            await owe_digest(session, settings)
        outcomes = await send_pending(database, settings)
    finally:
        await database.dispose()

    assert outcomes == [SendOutcome.SENT, SendOutcome.SENT, SendOutcome.SENT]
    assert len(smtp.inbox.to("p@example.org")) == 2 and len(smtp.inbox.to("agent@example.org")) == 1


async def test_the_journal_filters_by_instants_in_any_offset_on_sqlite(tmp_path: Path) -> None:
    # SQLite keeps a datetime's digits and forgets its zone: a line at 22:55 UTC compared with
    # « since 23:00+01:00 » (22:00 UTC) by digits was left out.
    url = f"sqlite+aiosqlite:///{tmp_path / 'notifications.sqlite'}"
    await asyncio.to_thread(upgrade, service("notifications").migrations_dir, url)
    database = Database(url)
    family = str(uuid.uuid4())
    late_evening = datetime(2026, 11, 28, 22, 55, tzinfo=UTC)
    paris = timezone(timedelta(hours=1))
    try:
        await deliver(database, settings_for(1), event(family_id=family, occurred_at=late_evening))
        async with database.transaction() as session:
            found, total = await list_journal(
                session,
                family_id=family,
                page=1,
                page_size=10,
                since=datetime(2026, 11, 28, 23, 0, tzinfo=paris),
                until=datetime(2026, 11, 29, 0, 0, tzinfo=paris),
            )
    finally:
        await database.dispose()

    assert total == 1
    assert found[0].occurred_at == late_evening and found[0].occurred_at.tzinfo is not None
