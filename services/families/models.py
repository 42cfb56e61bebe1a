"""Tables owned by the families service."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.kit.outbox import OutboxMessageMixin


class Base(DeclarativeBase):
    """Declarative base of this service's tables only."""


class Family(Base):
    """A household: owns persons, requests and an account (or several) in auth."""

    __tablename__ = "families"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(120), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Optimistic concurrency: every write bumps it, a stale write is refused.
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class OutboxMessage(OutboxMessageMixin, Base):
    """Events waiting to be relayed to the queue."""

    __tablename__ = "outbox_messages"
