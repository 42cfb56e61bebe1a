"""Tables owned by the families service."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String
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


class Person(Base):
    """A member of a family: a responsable or a child."""

    __tablename__ = "persons"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    family_id: Mapped[str] = mapped_column(ForeignKey("families.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))  # "responsable" or "child"
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80))
    birth_date: Mapped[date | None] = mapped_column(Date)


class OutboxMessage(OutboxMessageMixin, Base):
    """Events waiting to be relayed to the queue."""

    __tablename__ = "outbox_messages"
