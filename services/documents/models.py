"""Tables owned by the documents service."""

from __future__ import annotations

from datetime import date, datetime

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
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from services.kit.columns import UtcDateTime
from services.kit.outbox import OutboxMessageMixin

# What a submission goes through; the screens' words are in schemas.STATE_LABELS.
SCANNING = "scanning"  # en cours d'analyse: stored, waiting for the antivirus
PENDING = "pending"  # en attente de validation: visible to staff
ACCEPTED = "accepted"
REFUSED = "refused"
# remplacé: the family sent the same document again before staff decided on this copy;
# staff can no longer decide on it, the family still sees it in its history.
REPLACED = "replaced"
SUBMISSION_STATES = (SCANNING, PENDING, ACCEPTED, REFUSED, REPLACED)
# Waiting for the antivirus or for staff: at most one such submission per subject (one
# family, one type, one person or none), so staff never decide twice on the same document.
WAITING_STATES = (SCANNING, PENDING)
WAITING_SQL = "state IN ('scanning', 'pending')"

CONCERNS = ("family", "child", "person")


class Base(DeclarativeBase):
    """Declarative base of this service's tables only."""


ALL_FORMATS = ("pdf", "jpeg", "png")


class DocumentType(Base):
    """A document the structure asks families for, e.g. "Photocopie des vaccinations"."""

    __tablename__ = "document_types"
    __table_args__ = (
        CheckConstraint("concerns IN ('family', 'child', 'person')", name="concerns_known"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(160), unique=True)
    # "family": one per household; "child": one per child; "person": one per member.
    concerns: Mapped[str] = mapped_column(String(10))
    mandatory: Mapped[bool] = mapped_column(Boolean, default=False)
    help_text: Mapped[str] = mapped_column(Text, default="")
    validity_days: Mapped[int | None] = mapped_column(Integer)
    # Never empty: a type created without formats (the demo's) accepts all of them.
    accepted_formats: Mapped[list[str]] = mapped_column(JSON, default=lambda: list(ALL_FORMATS))
    all_activities: Mapped[bool] = mapped_column(Boolean, default=False)
    activity_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Submission(Base):
    """What a family sent for one document type (and one person), with staff's decision."""

    __tablename__ = "submissions"
    __table_args__ = (
        CheckConstraint(
            "state IN ('scanning', 'pending', 'accepted', 'refused', 'replaced')",
            name="state_known",
        ),
        Index("ix_submissions_family_type", "family_id", "document_type_id", "person_id"),
        # The database's guarantee behind `service.create_submission`'s lock: two uploads
        # that raced cannot both stay waiting (a family document has no person: '' then).
        Index(
            "uq_submissions_one_waiting",
            "family_id",
            "document_type_id",
            text("coalesce(person_id, '')"),
            unique=True,
            postgresql_where=text(WAITING_SQL),
            sqlite_where=text(WAITING_SQL),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    family_id: Mapped[str] = mapped_column(String(64), index=True)
    person_id: Mapped[str | None] = mapped_column(String(64))
    person_name: Mapped[str] = mapped_column(String(200), default="")
    document_type_id: Mapped[str] = mapped_column(ForeignKey("document_types.id"))
    state: Mapped[str] = mapped_column(String(12), index=True)
    submitted_by: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(64))
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    valid_until: Mapped[date | None] = mapped_column(Date)
    scan_attempts: Mapped[int] = mapped_column(Integer, default=0)
    scanned_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Set by the decision that ends the file's usefulness; the nightly purge removes the
    # row and its objects once it is past.
    purge_after: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)

    document_type: Mapped[DocumentType] = relationship(lazy="joined")
    files: Mapped[list[SubmissionFile]] = relationship(
        back_populates="submission",
        cascade="all, delete-orphan",
        order_by="SubmissionFile.position",
        lazy="selectin",
    )


class SubmissionFile(Base):
    """One stored file of a submission (front, back…): an S3 key the server generated."""

    __tablename__ = "submission_files"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    submission_id: Mapped[str] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    # Display only: the sanitised name the family gave; never part of a key or a path.
    display_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))

    submission: Mapped[Submission] = relationship(back_populates="files")


class OrgDocument(Base):
    """A document the structure publishes for families (règlement, menus, forms)."""

    __tablename__ = "org_documents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(80))
    # Start of publication; families see the document from then until `published_until`.
    published_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    published_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    description: Mapped[str] = mapped_column(Text, default="")
    to_return: Mapped[bool] = mapped_column(Boolean, default=False)
    document_type_id: Mapped[str | None] = mapped_column(
        ForeignKey("document_types.id", ondelete="SET NULL")
    )
    storage_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    content_type: Mapped[str | None] = mapped_column(String(60))
    size: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class OutboxMessage(OutboxMessageMixin, Base):
    """Events waiting to be relayed to the queue."""

    __tablename__ = "outbox_messages"
