"""Tables owned by the notifications service."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.kit.columns import UtcDateTime
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
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Who acted, when the event says it: an account id and its role (family, staff, service).
    # Kept apart from `summary`, which is read back as it is: a staff member's id never
    # reaches a family (the read view names staff « un agent » only).
    actor_id: Mapped[str | None] = mapped_column(String(64))
    actor_role: Mapped[str | None] = mapped_column(String(10))

    # The journal is always read one family at a time, newest first.
    __table_args__ = (Index("ix_journal_entries_family_occurred", "family_id", "occurred_at"),)


class DeadLetter(Base):
    """A message the consumer could not handle (malformed, unknown type), kept for staff."""

    __tablename__ = "dead_letters"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[Any] = mapped_column(JSON)


class OutgoingEmail(Base):
    """One e-mail owed: written with its cause (event, contact message), sent by the `email` queue.

    `source_id` is the event (or message) it comes from and `position` its rank among that
    source's recipients: the pair is unique, so a second handling of a source cannot owe a
    second e-mail, and the `Message-ID` is made from it.
    """

    __tablename__ = "outgoing_emails"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    source_id: Mapped[str] = mapped_column(String(36))
    position: Mapped[int] = mapped_column(Integer, default=0)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    template: Mapped[str] = mapped_column(String(60))
    category: Mapped[str] = mapped_column(String(30))
    family_id: Mapped[str | None] = mapped_column(String(36), index=True)
    recipient: Mapped[str] = mapped_column(String(320))
    language: Mapped[str] = mapped_column(String(5))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    # pending → sent, or pending → failed (a 5xx, or too many 4xx); staff may resend a failed one.
    state: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # When a send task was last put on the queue; the relay re-enqueues after a delay.
    enqueued_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (
        UniqueConstraint("source_id", "position", name="uq_outgoing_emails_source_position"),
        # The relay's scan: pending rows due now.
        Index("ix_outgoing_emails_state_next", "state", "next_attempt_at"),
    )


class AccountAddress(Base):
    """An account's e-mail address and language, learnt from auth's events (never asked)."""

    __tablename__ = "account_addresses"

    account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320))
    kind: Mapped[str | None] = mapped_column(String(10))
    language: Mapped[str] = mapped_column(String(5), default="fr")
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # The time of the newest event applied: an older event arriving late changes nothing.
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class AccountFamily(Base):
    """Which families an account belongs to (from auth's events): who receives a family's mail."""

    __tablename__ = "account_families"

    account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    family_id: Mapped[str] = mapped_column(String(36), primary_key=True, index=True)


class FamilyActivity(Base):
    """An activity a family has an accepted registration in (bookings' events): news audience."""

    __tablename__ = "family_activities"

    family_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    activity_id: Mapped[str] = mapped_column(String(36), primary_key=True)


class EmailPreference(Base):
    """A family's choice for one optional category of e-mails (absent: receives it)."""

    __tablename__ = "email_preferences"

    family_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    category: Mapped[str] = mapped_column(String(30), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class PendingRequest(Base):
    """A family's request still waiting for staff (from events): the digest, the staff home."""

    __tablename__ = "pending_requests"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    family_id: Mapped[str | None] = mapped_column(String(36))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ContactRecipient(Base):
    """Someone families may write to ("Guichet unique inscriptions"), configured by staff."""

    __tablename__ = "contact_recipients"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(320))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ContactMessage(Base):
    """A thread started by a family through "Contacter la structure"."""

    __tablename__ = "contact_messages"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    family_id: Mapped[str] = mapped_column(String(36), index=True)
    account_id: Mapped[str] = mapped_column(String(64))
    recipient_id: Mapped[str] = mapped_column(ForeignKey("contact_recipients.id"))
    subject: Mapped[str] = mapped_column(String(500))
    # open: waiting for staff; answered: staff replied last.
    state: Mapped[str] = mapped_column(String(10), default="open")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    last_activity_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ContactPost(Base):
    """One post of a thread: the family's message, then replies either way."""

    __tablename__ = "contact_posts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("contact_messages.id"), index=True)
    author_role: Mapped[str] = mapped_column(String(10))
    author_id: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class News(Base):
    """An announcement on "Mon tableau de bord", for everyone or one activity's families."""

    __tablename__ = "news"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    visible_from: Mapped[datetime] = mapped_column(UtcDateTime())
    visible_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    activity_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(64))
