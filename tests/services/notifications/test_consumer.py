"""The consumer's rules on PostgreSQL: one effect per event id, bad messages kept aside."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from services.kit.database import Database
from services.kit.outbox import utcnow
from services.notifications.models import DeadLetter, JournalEntry, ProcessedEvent
from services.notifications.service import (
    Delivery,
    Outcome,
    handle_event,
    purge_processed_events,
)

from .factories import SETTINGS, event


async def deliver(database: Database, raw: Any) -> Delivery:
    """One delivery in its own transaction, as the task does it."""
    async with database.transaction() as session:
        return await handle_event(session, raw=raw, settings=SETTINGS)


async def count(database: Database, model: type[Any]) -> int:
    """Rows of a table."""
    async with database.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_an_event_delivered_twice_is_journaled_once(database: Database) -> None:
    message = event(name="TEST")

    first = await deliver(database, message)
    second = await deliver(database, message)

    assert first == Delivery(Outcome.HANDLED, message["id"])
    assert second == Delivery(Outcome.DUPLICATE, message["id"])
    async with database.sessions() as session:
        (entry,) = (await session.scalars(select(JournalEntry))).all()
    assert entry.event_id == message["id"]
    assert entry.family_id == message["family_id"]
    assert entry.summary == {"name": "TEST"}


async def test_concurrent_deliveries_of_one_event_have_one_effect(database: Database) -> None:
    message = event()

    outcomes = await asyncio.gather(*(deliver(database, message) for _ in range(4)))

    assert sorted(o.outcome.value for o in outcomes) == ["duplicate"] * 3 + ["handled"]
    assert await count(database, JournalEntry) == 1


async def test_a_failed_transaction_leaves_the_event_unclaimed(database: Database) -> None:
    message = event()
    with pytest.raises(RuntimeError):
        async with database.transaction() as session:
            await handle_event(session, raw=message, settings=SETTINGS)
            raise RuntimeError("the commit never happens")

    assert await count(database, ProcessedEvent) == 0
    assert (await deliver(database, message)).outcome is Outcome.HANDLED
    assert await count(database, JournalEntry) == 1


@pytest.mark.parametrize(
    "raw",
    [
        "not an object",
        ["a", "list"],
        {"type": "family.created"},
        {"id": "not-a-uuid", "type": "family.created", "source": "x", "data": {}},
    ],
)
async def test_malformed_messages_become_dead_letters_without_acknowledgement(
    database: Database, raw: Any
) -> None:
    delivery = await deliver(database, raw)

    assert delivery == Delivery(Outcome.DEAD_LETTER, None)
    async with database.sessions() as session:
        (letter,) = (await session.scalars(select(DeadLetter))).all()
    assert letter.raw == raw
    assert letter.reason
    assert await count(database, JournalEntry) == 0


async def test_a_malformed_message_with_an_id_is_kept_once_and_acknowledged(
    database: Database,
) -> None:
    message = event()
    del message["occurred_at"]

    first = await deliver(database, message)
    again = await deliver(database, message)

    assert first == Delivery(Outcome.DEAD_LETTER, message["id"])
    assert again.outcome is Outcome.DUPLICATE
    assert await count(database, DeadLetter) == 1
    async with database.sessions() as session:
        reason = await session.scalar(select(DeadLetter.reason))
    assert reason == "malformed envelope: occurred_at"


async def test_an_unknown_event_type_is_a_dead_letter_handled_once(database: Database) -> None:
    message = event("invoice.teleported")

    delivery = await deliver(database, message)
    await deliver(database, message)

    assert delivery == Delivery(Outcome.DEAD_LETTER, message["id"])
    async with database.sessions() as session:
        reasons = (await session.scalars(select(DeadLetter.reason))).all()
    assert reasons == ["unknown event type 'invoice.teleported'"]
    assert await count(database, JournalEntry) == 0


async def test_old_event_ids_are_forgotten_and_recent_ones_kept(database: Database) -> None:
    old, recent = event(), event()
    await deliver(database, old)
    await deliver(database, recent)
    async with database.transaction() as session:
        claimed = await session.get(ProcessedEvent, old["id"])
        assert claimed is not None
        claimed.processed_at = utcnow() - timedelta(days=31)

    async with database.transaction() as session:
        removed = await purge_processed_events(session, older_than=timedelta(days=30))

    assert removed == 1
    async with database.sessions() as session:
        left = (await session.scalars(select(ProcessedEvent.event_id))).all()
    assert left == [recent["id"]]
