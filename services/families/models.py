"""Tables owned by the families service.

Only the categories of data the CNIL's NS-058 allows are stored: no religion, no nature
of a handicap (a PAI says that a plan exists, never why).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.kit.columns import UtcDateTime
from services.kit.outbox import OutboxMessageMixin


class Base(DeclarativeBase):
    """Declarative base of this service's tables only."""


class Family(Base):
    """A household: owns persons (through memberships), requests and accounts in auth."""

    __tablename__ = "families"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(120), index=True)
    address: Mapped[str | None] = mapped_column(String(200))
    address_complement: Mapped[str | None] = mapped_column(String(200))
    postal_code: Mapped[str | None] = mapped_column(String(5))
    city: Mapped[str | None] = mapped_column(String(80))
    phone: Mapped[str | None] = mapped_column(String(20))
    phone_other: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    email_other: Mapped[str | None] = mapped_column(String(254))
    allocataire_regime: Mapped[str | None] = mapped_column(String(10))
    allocataire_number: Mapped[str | None] = mapped_column(String(20))
    # Protected: only staff or the structure's software set the quotient, with its evidence.
    quotient: Mapped[int | None] = mapped_column(Integer)
    quotient_date: Mapped[date | None] = mapped_column(Date)
    quotient_source: Mapped[str | None] = mapped_column(String(30))
    billing_person_id: Mapped[str | None] = mapped_column(ForeignKey("persons.id"))
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    # Optimistic concurrency: every write bumps it, a stale write is refused.
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class Person(Base):
    """A responsable, a child or another contact; may belong to several households."""

    __tablename__ = "persons"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))  # "responsable", "child" or "contact"
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80), index=True)
    sex: Mapped[str | None] = mapped_column(String(1))
    birth_date: Mapped[date | None] = mapped_column(Date)
    phone_mobile: Mapped[str | None] = mapped_column(String(20))
    phone_work: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    relationship: Mapped[str | None] = mapped_column(String(60))
    emergency_contact: Mapped[bool | None] = mapped_column(Boolean)
    authorised_pickup: Mapped[bool | None] = mapped_column(Boolean)
    school: Mapped[str | None] = mapped_column(String(120))
    school_class: Mapped[str | None] = mapped_column(String(40))
    doctor_name: Mapped[str | None] = mapped_column(String(120))
    doctor_phone: Mapped[str | None] = mapped_column(String(20))
    diet: Mapped[str | None] = mapped_column(String(20))
    allergies: Mapped[str | None] = mapped_column(String(500))
    pai: Mapped[bool | None] = mapped_column(Boolean)
    pai_end_date: Mapped[date | None] = mapped_column(Date)
    vaccination_dtp_date: Mapped[date | None] = mapped_column(Date)
    vaccination_ror_date: Mapped[date | None] = mapped_column(Date)
    photo_authorised: Mapped[bool | None] = mapped_column(Boolean)
    may_leave_alone: Mapped[bool | None] = mapped_column(Boolean)
    insurance_company: Mapped[str | None] = mapped_column(String(120))
    insurance_number: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class FamilyMember(Base):
    """A person's place in a household: a child of separated parents has two."""

    __tablename__ = "family_members"

    family_id: Mapped[str] = mapped_column(ForeignKey("families.id"), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ChangeRequest(Base):
    """A family's edit waiting for staff: old → new per field, against a record version."""

    __tablename__ = "change_requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    family_id: Mapped[str] = mapped_column(ForeignKey("families.id"), index=True)
    target: Mapped[str] = mapped_column(String(10))  # "family" or "person"
    person_id: Mapped[str | None] = mapped_column(ForeignKey("persons.id"))
    state: Mapped[str] = mapped_column(String(12))
    base_version: Mapped[int] = mapped_column(Integer)
    # [{"field": ..., "old": ..., "new": ...}] in JSON form (dates as ISO strings).
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    submitted_by: Mapped[str] = mapped_column(String(100))
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reason: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    __table_args__ = (Index("ix_change_requests_state_submitted", "state", "submitted_at"),)


class FieldPolicy(Base):
    """A staff decision overriding the default access of one field for one role."""

    __tablename__ = "field_policies"

    entity: Mapped[str] = mapped_column(String(10), primary_key=True)  # "family" or "person"
    field: Mapped[str] = mapped_column(String(40), primary_key=True)
    role: Mapped[str] = mapped_column(String(10), primary_key=True)  # "family" or "staff"
    access: Mapped[str] = mapped_column(String(10))  # hidden, read, edit, mandatory
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_by: Mapped[str] = mapped_column(String(100))


class IdempotencyKey(Base):
    """The answer to a creation sent with an `Idempotency-Key`, replayed to its retries.

    Keyed by the caller (`role:subject`), so one client's key never finds another's answer;
    written in the creation's transaction, so a key is stored exactly when its record is."""

    __tablename__ = "idempotency_keys"

    caller: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    # SHA-256 of the operation and its body: the same key with another body is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class OutboxMessage(OutboxMessageMixin, Base):
    """Events waiting to be relayed to the queue."""

    __tablename__ = "outbox_messages"
