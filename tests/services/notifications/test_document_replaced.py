"""A document sent again before staff decided: the documents service's `document.replaced`
is a line of the family's history and closes the older copy's request in the staff digest."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from services.kit.database import Database
from services.notifications.models import JournalEntry, PendingRequest

from .factories import of_type, settings_for
from .mailing import deliver
from .smtp_server import SmtpServer


async def test_a_replaced_copy_is_journaled_and_no_longer_waits_for_staff(
    database: Database, smtp: SmtpServer
) -> None:
    settings = settings_for(smtp.port)
    family = str(uuid.uuid4())
    names = {"document_type_name": "Attestation CAF", "person_name": ""}
    for event_type, submission in (
        ("document.submitted", "first"),
        ("document.replaced", "first"),
        ("document.submitted", "second"),
    ):
        message = of_type(event_type, family, source="documents", submission_id=submission)
        message["data"].update(names)
        await deliver(database, settings, message)

    async with database.sessions() as session:
        waiting = await session.scalars(
            select(PendingRequest.key).where(PendingRequest.family_id == family)
        )
        assert list(waiting) == ["document:second"]
        journal = await session.scalars(
            select(JournalEntry)
            .where(JournalEntry.family_id == family)
            .order_by(JournalEntry.occurred_at)
        )
        lines = [(j.event_type, j.summary.get("document_type_name")) for j in journal]
    assert ("document.replaced", "Attestation CAF") in lines
