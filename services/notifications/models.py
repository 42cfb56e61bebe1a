"""Tables owned by the notifications service."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.kit.outbox import ProcessedEventMixin


class Base(DeclarativeBase):
    """Declarative base of this service's tables only."""


class ProcessedEvent(ProcessedEventMixin, Base):
    """One row per event handled: what makes a second delivery a no-op."""

    __tablename__ = "processed_events"
    # The nightly purge forgets old ids by age.
    __table_args__ = (Index("ix_processed_events_processed_at", "processed_at"),)


class JournalEntry(Base):
    """A line of a family's "Historique de mes actions", written from one event."""

    __tablename__ = "journal_entries"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # The event it was written from: traceability, and how tests count duplicates.
    event_id: Mapped[str] = mapped_column(String(36), index=True)
    family_id: Mapped[str] = mapped_column(String(36))
    account_id: Mapped[str | None] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(100))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)

    # The journal is always read one family at a time, newest first.
    __table_args__ = (Index("ix_journal_entries_family_occurred", "family_id", "occurred_at"),)


class DeadLetter(Base):
    """A message the consumer could not handle (malformed, unknown type), kept for staff."""

    __tablename__ = "dead_letters"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[Any] = mapped_column(JSON)
