"""Tables owned by the billing service. Money in integer cents, never float."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from services.kit.columns import UtcDateTime
from services.kit.outbox import OutboxMessageMixin


class Base(DeclarativeBase):
    """Declarative base of this service's tables only."""


class Tariff(Base):
    """The price of one unit of one activity for residents or not, from a date on.

    `mode` is `brackets` (a price per quotient-familial bracket) or `rate` (QF × rate, kept
    between a floor and a ceiling). A price change is a new row with a later `valid_from`.
    """

    __tablename__ = "tariffs"
    __table_args__ = (
        UniqueConstraint("activity_id", "unit", "resident", "valid_from", name="one_per_date"),
        CheckConstraint("mode IN ('brackets', 'rate')", name="known_mode"),
        CheckConstraint(
            "mode = 'brackets' OR (rate_cents_per_qf IS NOT NULL AND floor_cents IS NOT NULL "
            "AND ceiling_cents IS NOT NULL AND floor_cents <= ceiling_cents)",
            name="rate_complete",
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    activity_id: Mapped[str] = mapped_column(String(36), index=True)
    activity_name: Mapped[str] = mapped_column(String(120))
    unit: Mapped[str] = mapped_column(String(40))
    resident: Mapped[bool] = mapped_column(Boolean)
    valid_from: Mapped[date] = mapped_column(Date)
    mode: Mapped[str] = mapped_column(String(10))
    rate_cents_per_qf: Mapped[Decimal | None] = mapped_column(Numeric(12, 6))
    floor_cents: Mapped[int | None] = mapped_column(Integer)
    ceiling_cents: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    brackets: Mapped[list[TariffBracket]] = relationship(
        back_populates="tariff",
        cascade="all, delete-orphan",
        order_by="TariffBracket.qf_min",
        lazy="selectin",
    )


class TariffBracket(Base):
    """A price for quotients from `qf_min` to `qf_max` included (no `qf_max`: and above)."""

    __tablename__ = "tariff_brackets"
    __table_args__ = (
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
        CheckConstraint("qf_max IS NULL OR qf_max >= qf_min", name="bounds_ordered"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tariff_id: Mapped[str] = mapped_column(ForeignKey("tariffs.id", ondelete="CASCADE"), index=True)
    qf_min: Mapped[int] = mapped_column(Integer)
    qf_max: Mapped[int | None] = mapped_column(Integer)
    price_cents: Mapped[int] = mapped_column(Integer)

    tariff: Mapped[Tariff] = relationship(back_populates="brackets")


class ActivityRule(Base):
    """Per activity: whether an unjustified absence is billed like a presence."""

    __tablename__ = "activity_rules"

    activity_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    bill_unjustified_absences: Mapped[bool] = mapped_column(Boolean)


class NumberCounter(Base):
    """The last number given per prefix and year; incremented with UPDATE … RETURNING."""

    __tablename__ = "number_counters"

    prefix: Mapped[str] = mapped_column(String(3), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer)


class InvoicingRun(Base):
    """One month's run: a preview (drafts) then, once, a publication."""

    __tablename__ = "invoicing_runs"
    __table_args__ = (
        CheckConstraint("state IN ('preview', 'published', 'discarded')", name="known_state"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), index=True)
    state: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    invoice_count: Mapped[int] = mapped_column(Integer, default=0)
    total_cents: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)


class InvoicedMonth(Base):
    """A month that has been invoiced: the primary key refuses a second publication."""

    __tablename__ = "invoiced_months"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("invoicing_runs.id"))
    published_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Invoice(Base):
    """A family's monthly statement, or a credit note (`kind`) cancelling one."""

    __tablename__ = "invoices"
    __table_args__ = (
        CheckConstraint("amount_cents >= 0", name="amount_not_negative"),
        CheckConstraint(
            "balance_cents >= 0 AND balance_cents <= amount_cents", name="balance_in_range"
        ),
        CheckConstraint(
            "state IN ('draft', 'issued', 'partially_paid', 'paid', 'sent_to_treasury', "
            "'cancelled')",
            name="known_state",
        ),
        CheckConstraint("kind IN ('invoice', 'credit_note')", name="known_kind"),
        Index("ix_invoices_family_state", "family_id", "state"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    family_id: Mapped[str] = mapped_column(String(36), index=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)  # e.g. F200300001
    issued_on: Mapped[date | None] = mapped_column(Date)
    amount_cents: Mapped[int] = mapped_column(Integer)
    balance_cents: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(12), default="invoice")
    state: Mapped[str] = mapped_column(String(20), default="draft")
    month: Mapped[str | None] = mapped_column(String(7), index=True)
    run_id: Mapped[str | None] = mapped_column(ForeignKey("invoicing_runs.id"), index=True)
    due_on: Mapped[date | None] = mapped_column(Date)
    family_name: Mapped[str] = mapped_column(String(120), default="")
    family_address: Mapped[str] = mapped_column(String(300), default="")
    family_email: Mapped[str | None] = mapped_column(String(254))
    quotient: Mapped[int | None] = mapped_column(Integer)
    resident: Mapped[bool] = mapped_column(Boolean, default=True)
    pdf_key: Mapped[str | None] = mapped_column(String(80))
    credits_invoice_id: Mapped[str | None] = mapped_column(ForeignKey("invoices.id"))
    replaces_invoice_id: Mapped[str | None] = mapped_column(ForeignKey("invoices.id"))
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())

    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice",
        cascade="all, delete-orphan",
        order_by="(InvoiceLine.person_name, InvoiceLine.day, InvoiceLine.unit)",
        lazy="selectin",
    )


class InvoiceLine(Base):
    """One child, one day, one unit, at the price of that day's tariff."""

    __tablename__ = "invoice_lines"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[str] = mapped_column(String(36))
    person_name: Mapped[str] = mapped_column(String(160))
    activity_id: Mapped[str] = mapped_column(String(36))
    activity_name: Mapped[str] = mapped_column(String(120))
    unit: Mapped[str] = mapped_column(String(40))
    day: Mapped[date] = mapped_column(Date)
    attendance: Mapped[str] = mapped_column(String(20))
    unit_price_cents: Mapped[int] = mapped_column(Integer)
    amount_cents: Mapped[int] = mapped_column(Integer)
    tariff_id: Mapped[str | None] = mapped_column(String(36))

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class Payment(Base):
    """Money received: online (PayFiP) or recorded by the finance department; with a receipt."""

    __tablename__ = "payments"
    __table_args__ = (CheckConstraint("amount_cents > 0", name="amount_positive"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    family_id: Mapped[str] = mapped_column(String(36), index=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str | None] = mapped_column(String(80))
    received_on: Mapped[date] = mapped_column(Date)
    receipt_number: Mapped[str] = mapped_column(String(20), unique=True)
    # One payment per PayFiP operation, whatever the number of notifications.
    payfip_idop: Mapped[str | None] = mapped_column(String(64), unique=True)
    recorded_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    allocations: Mapped[list[PaymentAllocation]] = relationship(
        back_populates="payment", cascade="all, delete-orphan", lazy="selectin"
    )


class PaymentAllocation(Base):
    """The part of a payment that settles one invoice."""

    __tablename__ = "payment_allocations"
    __table_args__ = (CheckConstraint("amount_cents > 0", name="amount_positive"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    payment_id: Mapped[str] = mapped_column(
        ForeignKey("payments.id", ondelete="CASCADE"), index=True
    )
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(Integer)

    payment: Mapped[Payment] = relationship(back_populates="allocations")


class PaymentAttempt(Base):
    """One online payment started with PayFiP, until its detail settles it or it expires."""

    __tablename__ = "payment_attempts"
    __table_args__ = (
        CheckConstraint(
            "state IN ('pending', 'paid', 'refused', 'abandoned', 'expired', 'rejected')",
            name="known_state",
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), index=True)
    family_id: Mapped[str] = mapped_column(String(36), index=True)
    idop: Mapped[str | None] = mapped_column(String(64), unique=True)
    refdet: Mapped[str] = mapped_column(String(30))
    exer: Mapped[str] = mapped_column(String(4))
    numcli: Mapped[str] = mapped_column(String(6))
    amount_cents: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(12), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(String(300))


class OutboxMessage(OutboxMessageMixin, Base):
    """Events waiting to be relayed to the queue."""

    __tablename__ = "outbox_messages"
