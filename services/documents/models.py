"""Tables owned by the documents service."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.kit.outbox import OutboxMessageMixin


class Base(DeclarativeBase):
    """Declarative base of this service's tables only."""


class DocumentType(Base):
    """A document the structure asks families for, e.g. "Photocopie des vaccinations"."""

    __tablename__ = "document_types"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(160), unique=True)
    concerns: Mapped[str] = mapped_column(String(10))  # "family" or "person"
    mandatory: Mapped[bool] = mapped_column(Boolean, default=False)


class OrgDocument(Base):
    """A document the structure publishes for families (règlement, menus, forms)."""

    __tablename__ = "org_documents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(80))
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class OutboxMessage(OutboxMessageMixin, Base):
    """Events waiting to be relayed to the queue."""

    __tablename__ = "outbox_messages"
