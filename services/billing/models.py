"""Tables owned by the billing service."""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.kit.outbox import OutboxMessageMixin


class Base(DeclarativeBase):
    """Declarative base of this service's tables only."""


class Invoice(Base):
    """A family's monthly statement. Money in integer cents, never float."""

    __tablename__ = "invoices"
    __table_args__ = (
        CheckConstraint("amount_cents >= 0", name="amount_not_negative"),
        CheckConstraint(
            "balance_cents >= 0 AND balance_cents <= amount_cents", name="balance_in_range"
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    family_id: Mapped[str] = mapped_column(String(36), index=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # e.g. F200300001
    issued_on: Mapped[date] = mapped_column(Date)
    amount_cents: Mapped[int] = mapped_column(Integer)
    balance_cents: Mapped[int] = mapped_column(Integer)


class OutboxMessage(OutboxMessageMixin, Base):
    """Events waiting to be relayed to the queue."""

    __tablename__ = "outbox_messages"
