"""Tables owned by the bookings service.

Capacity is guarded twice: a conditional `UPDATE … WHERE n < capacity` takes a place
(see `places.py`), and a CHECK constraint refuses any row that would still end up over
capacity, whatever code path wrote it.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from services.kit.outbox import OutboxMessageMixin

from .types import UtcDateTime

# Registration states (code words; the screens say demandée, acceptée, refusée, annulée).
REQUESTED, ACCEPTED, REFUSED, CANCELLED = "requested", "accepted", "refused", "cancelled"
REGISTRATION_STATES = (REQUESTED, ACCEPTED, REFUSED, CANCELLED)
# States that hold a group place and forbid a second request for the same person/period.
ACTIVE_STATES = (REQUESTED, ACCEPTED)
_ACTIVE_SQL = "state IN ('requested', 'accepted')"


class Base(DeclarativeBase):
    """Declarative base of this service's tables only."""


class Activity(Base):
    """An activity of the structure, e.g. "ALSH Josta Leku", with its booking rules."""

    __tablename__ = "activities"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    # "manual": staff decide every request; "automatic": accepted when every rule passes.
    validation: Mapped[str] = mapped_column(String(10), default="manual", server_default="manual")
    waiting_list: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # Whether the documents service must say "complete" before a registration or booking.
    documents_required: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=text("true")
    )
    # Notice rules as data (see notice_rules.py); None means "until the day starts".
    add_notice: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    cancel_notice: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    # Small lists read with the activity every time (selectin: no lazy load under asyncio).
    groups: Mapped[list[ActivityGroup]] = relationship(
        lazy="selectin", order_by="ActivityGroup.min_age"
    )
    units: Mapped[list[Unit]] = relationship(lazy="selectin", order_by="Unit.starts_at")


class ActivityGroup(Base):
    """An age group inside an activity (maternelle, primaire), with an optional capacity."""

    __tablename__ = "activity_groups"
    __table_args__ = (
        UniqueConstraint("activity_id", "name"),
        CheckConstraint("min_age >= 0 AND max_age >= min_age", name="ck_group_ages"),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="ck_group_capacity"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    activity_id: Mapped[str] = mapped_column(ForeignKey("activities.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    min_age: Mapped[int] = mapped_column(Integer)
    max_age: Mapped[int] = mapped_column(Integer)
    # Registrations per period; None: unlimited.
    capacity: Mapped[int | None] = mapped_column(Integer)


class Unit(Base):
    """What is booked on a day (journée, matin, après-midi, repas, garderie), with times."""

    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("activity_id", "code"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    activity_id: Mapped[str] = mapped_column(ForeignKey("activities.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(80))
    starts_at: Mapped[time | None] = mapped_column(Time)
    ends_at: Mapped[time | None] = mapped_column(Time)
    # Codes of the units of the same activity that cannot be booked the same day.
    excludes: Mapped[list[str]] = mapped_column(JSON, default=list)


class Period(Base):
    """A period of an activity (holidays, school year) with its registration window."""

    __tablename__ = "periods"
    __table_args__ = (
        UniqueConstraint("activity_id", "name"),
        CheckConstraint("ends_on >= starts_on", name="ck_period_dates"),
        CheckConstraint("registration_closes_at > registration_opens_at", name="ck_period_window"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    activity_id: Mapped[str] = mapped_column(ForeignKey("activities.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    school_year: Mapped[str] = mapped_column(String(9), index=True)  # "2026-2027"
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    # Stored in UTC; set and shown in Europe/Paris.
    registration_opens_at: Mapped[datetime] = mapped_column(UtcDateTime)
    registration_closes_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Closure(Base):
    """A day an activity is closed (strike, pedagogical day): no openings are made on it."""

    __tablename__ = "closures"
    __table_args__ = (UniqueConstraint("activity_id", "day"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    activity_id: Mapped[str] = mapped_column(ForeignKey("activities.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="")


class Opening(Base):
    """A (date, unit, group) that can be booked, with its capacity and booked count."""

    __tablename__ = "openings"
    __table_args__ = (
        UniqueConstraint("group_id", "unit_id", "day"),
        CheckConstraint("booked >= 0 AND booked <= capacity", name="ck_opening_booked"),
        Index("ix_openings_activity_day", "activity_id", "day"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    activity_id: Mapped[str] = mapped_column(ForeignKey("activities.id"))
    period_id: Mapped[str] = mapped_column(ForeignKey("periods.id"), index=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("activity_groups.id"))
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    day: Mapped[date] = mapped_column(Date)
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    closed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class GroupPlaces(Base):
    """Registration places of a group for one period: the row the conditional UPDATE guards."""

    __tablename__ = "group_places"
    __table_args__ = (
        CheckConstraint("registered >= 0 AND registered <= capacity", name="ck_group_places"),
    )

    group_id: Mapped[str] = mapped_column(ForeignKey("activity_groups.id"), primary_key=True)
    period_id: Mapped[str] = mapped_column(ForeignKey("periods.id"), primary_key=True)
    capacity: Mapped[int] = mapped_column(Integer)
    registered: Mapped[int] = mapped_column(Integer, default=0)


class Registration(Base):
    """A person's request to join an activity's group for a period (inscription), and its state."""

    __tablename__ = "registrations"
    __table_args__ = (
        # A second request while one is pending or accepted is refused by the database itself.
        Index(
            "uq_registrations_active",
            "person_id",
            "activity_id",
            "period_id",
            unique=True,
            postgresql_where=text(_ACTIVE_SQL),
            sqlite_where=text(_ACTIVE_SQL),
        ),
        CheckConstraint(
            "state IN ('requested', 'accepted', 'refused', 'cancelled')",
            name="ck_registration_state",
        ),
        Index("ix_registrations_updated_at", "updated_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    family_id: Mapped[str] = mapped_column(String(36), index=True)
    person_id: Mapped[str] = mapped_column(String(36), index=True)
    activity_id: Mapped[str] = mapped_column(ForeignKey("activities.id"))
    state: Mapped[str] = mapped_column(String(20), default=REQUESTED)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    period_id: Mapped[str] = mapped_column(ForeignKey("periods.id"), index=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("activity_groups.id"))
    # A copy of the name at request time, for staff lists: families' tables are not ours.
    person_name: Mapped[str] = mapped_column(String(170), default="")
    refusal_reason: Mapped[str | None] = mapped_column(String(500))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Whether this registration took a place in `group_places` (groups with a capacity).
    holds_place: Mapped[bool] = mapped_column(Boolean, default=False)


class OutboxMessage(OutboxMessageMixin, Base):
    """Events waiting to be relayed to the queue."""

    __tablename__ = "outbox_messages"


# Reservation states (the screens say demande en attente, réservé, en liste d'attente,
# refusé, annulé). Attendance is a separate column, set by staff on confirmed ones.
RES_REQUESTED, CONFIRMED, WAITING = "requested", "confirmed", "waiting"
RES_REFUSED, RES_CANCELLED = "refused", "cancelled"
RESERVATION_STATES = (RES_REQUESTED, CONFIRMED, WAITING, RES_REFUSED, RES_CANCELLED)
# One active reservation per person and opening: a double click cannot book twice.
RESERVATION_ACTIVE = (RES_REQUESTED, CONFIRMED, WAITING)
_RES_ACTIVE_SQL = "state IN ('requested', 'confirmed', 'waiting')"
PRESENT, ABSENT_JUSTIFIED, ABSENT_UNJUSTIFIED = "present", "absent_justified", "absent_unjustified"
ATTENDANCES = (PRESENT, ABSENT_JUSTIFIED, ABSENT_UNJUSTIFIED)


class Reservation(Base):
    """A person booked on an opening (réservation), its state and, later, its attendance.

    `holds_place` says whether this row counts in its opening's `booked` (requested and
    confirmed ones do; waiting ones do not), so that a cancellation gives back exactly what
    was taken.
    """

    __tablename__ = "reservations"
    __table_args__ = (
        Index(
            "uq_reservations_active",
            "person_id",
            "opening_id",
            unique=True,
            postgresql_where=text(_RES_ACTIVE_SQL),
            sqlite_where=text(_RES_ACTIVE_SQL),
        ),
        CheckConstraint(
            "state IN ('requested', 'confirmed', 'waiting', 'refused', 'cancelled')",
            name="ck_reservation_state",
        ),
        CheckConstraint(
            "attendance IS NULL OR attendance IN "
            "('present', 'absent_justified', 'absent_unjustified')",
            name="ck_reservation_attendance",
        ),
        # The waiting list of an opening, first come first served.
        Index("ix_reservations_opening_state", "opening_id", "state", "arrival"),
        Index("ix_reservations_person_day", "person_id", "day"),
        Index("ix_reservations_day", "day"),
        Index("ix_reservations_updated_at", "updated_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    family_id: Mapped[str] = mapped_column(String(36), index=True)
    person_id: Mapped[str] = mapped_column(String(36))
    person_name: Mapped[str] = mapped_column(String(170), default="")
    activity_id: Mapped[str] = mapped_column(ForeignKey("activities.id"))
    opening_id: Mapped[str] = mapped_column(ForeignKey("openings.id"))
    day: Mapped[date] = mapped_column(Date)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    state: Mapped[str] = mapped_column(String(20))
    holds_place: Mapped[bool] = mapped_column(Boolean, default=False)
    attendance: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(500))
    changed_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Order of arrival (wall clock, nanoseconds): the waiting list is served in this order.
    # Not the service's clock, which tests freeze: two requests must never tie.
    arrival: Mapped[int] = mapped_column(BigInteger, default=0)


class IdempotencyRecord(Base):
    """The answer given to a save sent with an `Idempotency-Key`, replayed to its retries."""

    __tablename__ = "idempotency_keys"

    family_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class CalendarFeed(Base):
    """A private iCalendar link of one person's confirmed reservations; the token is hashed."""

    __tablename__ = "calendar_feeds"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    family_id: Mapped[str] = mapped_column(String(36), index=True)
    person_id: Mapped[str] = mapped_column(String(36), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The account that made the link (the token's subject): the link dies when auth marks it
    # disabled (kit/lapse_marks.py). None for the links made before it was kept.
    account_id: Mapped[str | None] = mapped_column(String(100))
    # When the link was made, by the wall clock (compared with auth's and families' marks).
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
