"""The documents rules, with no HTTP in them."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.kit.identity import Identity
from services.kit.outbox import record_event, utcnow

from . import events
from .config import DocumentsSettings
from .errors import (
    DocumentNotFound,
    DocumentTypeNotFound,
    DuplicateDocumentType,
    NotReviewable,
)
from .inspection import InspectedFile
from .members import Member
from .models import (
    ACCEPTED,
    ALL_FORMATS,
    PENDING,
    REFUSED,
    REPLACED,
    SCANNING,
    WAITING_STATES,
    DocumentType,
    OrgDocument,
    OutboxMessage,
    Submission,
    SubmissionFile,
)
from .schemas import (
    STATE_LABELS,
    Completeness,
    DocumentTypeCreate,
    DocumentTypeUpdate,
    ExpectedDocument,
    FamilyDocuments,
    FileRead,
    MemberDocuments,
    MissingDocument,
    OrgDocumentCreate,
    OrgDocumentUpdate,
    ReplacedCopy,
    SubmissionRead,
)

PARIS = ZoneInfo("Europe/Paris")
SOURCE = "documents"


def today_in_paris(now: datetime | None = None) -> date:
    """The structure's calendar day: validity dates are days in Europe/Paris."""
    return (now or utcnow()).astimezone(PARIS).date()


def end_of_day_utc(day: date) -> datetime:
    """The UTC instant at which a Paris day ends."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=PARIS).astimezone(UTC)


# ---------------------------------------------------------------- document types


async def list_document_types(
    session: AsyncSession, *, include_inactive: bool = False
) -> list[DocumentType]:
    """Document types in display order (active ones only, unless asked)."""
    statement = select(DocumentType).order_by(DocumentType.position, DocumentType.name)
    if not include_inactive:
        statement = statement.where(DocumentType.active.is_(True))
    return list(await session.scalars(statement))


async def get_document_type(
    session: AsyncSession, *, type_id: str, active_only: bool = True
) -> DocumentType:
    """The document type, or `DocumentTypeNotFound`."""
    found = await session.get(DocumentType, type_id)
    if found is None or (active_only and not found.active):
        raise DocumentTypeNotFound("Ce type de document n'existe pas.")
    return found


async def create_document_type(session: AsyncSession, *, data: DocumentTypeCreate) -> DocumentType:
    """Create a document type; `DuplicateDocumentType` when the name is taken."""
    document_type = DocumentType(id=str(uuid.uuid4()), created_at=utcnow(), **data.model_dump())
    session.add(document_type)
    await _flush_unique_name(session, data.name)
    return document_type


async def update_document_type(
    session: AsyncSession, *, type_id: str, data: DocumentTypeUpdate
) -> DocumentType:
    """Apply the fields that were sent."""
    document_type = await get_document_type(session, type_id=type_id, active_only=False)
    for field, value in data.model_dump(exclude_unset=True).items():
        if field in ("name", "concerns", "mandatory", "accepted_formats", "all_activities") and (
            value is None
        ):
            continue
        setattr(document_type, field, value)
    await _flush_unique_name(session, document_type.name)
    return document_type


async def _flush_unique_name(session: AsyncSession, name: str) -> None:
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise DuplicateDocumentType(f"Un type de document nommé « {name} » existe déjà.") from None


# ---------------------------------------------------------------- submissions


def display_state(submission: Submission | None, today: date, soon_days: int) -> str:
    """The state a family reads for its latest submission of a document."""
    if submission is None:
        return "missing"
    if submission.state != ACCEPTED:
        return submission.state
    if submission.valid_until is not None:
        if submission.valid_until < today:
            return "expired"
        if (submission.valid_until - today).days <= soon_days:
            return "expiring"
    return "accepted"


def is_valid(submission: Submission, today: date) -> bool:
    """Accepted and not past its validity."""
    return submission.state == ACCEPTED and (
        submission.valid_until is None or submission.valid_until >= today
    )


def submission_read(submission: Submission) -> SubmissionRead:
    """The API view of a submission (no storage keys, no hashes)."""
    return SubmissionRead(
        id=submission.id,
        family_id=submission.family_id,
        person_id=submission.person_id,
        person_name=submission.person_name,
        document_type_id=submission.document_type_id,
        document_type_name=submission.document_type.name,
        state=submission.state,
        state_label=STATE_LABELS[submission.state],
        refusal_reason=submission.refusal_reason,
        valid_until=submission.valid_until,
        submitted_at=submission.submitted_at,
        decided_at=submission.decided_at,
        files=[
            FileRead(id=f.id, name=f.display_name, content_type=f.content_type, size=f.size)
            for f in submission.files
        ],
    )


def _event_data(submission: Submission, **extra: Any) -> dict[str, Any]:
    return {
        "submission_id": submission.id,
        "document_type_id": submission.document_type_id,
        "document_type_name": submission.document_type.name,
        "person_id": submission.person_id,
        "person_name": submission.person_name,
        **extra,
    }


def _record(session: AsyncSession, event_type: str, submission: Submission, **extra: Any) -> None:
    record_event(
        session,
        OutboxMessage,
        source=SOURCE,
        event_type=event_type,
        data=_event_data(submission, **extra),
        family_id=submission.family_id,
    )


@dataclass(frozen=True)
class StoredFile:
    """A checked file and the key it was stored under."""

    key: str
    file: InspectedFile


async def create_submission(
    session: AsyncSession,
    *,
    family_id: str,
    document_type: DocumentType,
    person: Member | None,
    files: Sequence[StoredFile],
    submitted_by: str,
    scanning: bool,
    superseded_retention_days: int,
) -> Submission:
    """Record a submission whose objects are stored; visible to staff unless `scanning`.

    It replaces the copy of the same document still waiting (for the antivirus or for
    staff), so that staff decide once: under a lock on the subject, so that two uploads
    sent together end with the later one waiting and the other replaced.
    """
    person_id = person.id if person else None
    await _lock_subject(session, family_id, document_type.id, person_id)
    await _replace_waiting(
        session,
        family_id=family_id,
        document_type_id=document_type.id,
        person_id=person_id,
        retention=timedelta(days=superseded_retention_days),
    )
    submission = Submission(
        id=str(uuid.uuid4()),
        family_id=family_id,
        person_id=person_id,
        person_name=person.name[:200] if person else "",
        document_type_id=document_type.id,
        document_type=document_type,
        state=SCANNING if scanning else PENDING,
        submitted_by=submitted_by,
        submitted_at=utcnow(),
        scan_attempts=0,
        files=[
            SubmissionFile(
                id=str(uuid.uuid4()),
                position=position,
                storage_key=stored.key,
                display_name=stored.file.display_name,
                content_type=stored.file.content_type,
                size=len(stored.file.data),
                sha256=stored.file.sha256,
            )
            for position, stored in enumerate(files)
        ],
    )
    session.add(submission)
    if not scanning:
        _record(session, events.DOCUMENT_SUBMITTED, submission)
    await session.flush()
    return submission


async def _lock_subject(
    session: AsyncSession, family_id: str, document_type_id: str, person_id: str | None
) -> None:
    # Held to the commit: a second upload of the same document waits here, then finds the
    # first one committed and replaces it. SQLite writers are serialised at BEGIN already.
    if session.get_bind().dialect.name == "postgresql":
        subject = f"documents-subject:{family_id}:{document_type_id}:{person_id or ''}"
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:subject, 0))"),
            {"subject": subject},
        )


async def _replace_waiting(
    session: AsyncSession,
    *,
    family_id: str,
    document_type_id: str,
    person_id: str | None,
    retention: timedelta,
) -> None:
    """Mark the subject's waiting submissions replaced; their files are kept as a superseded
    copy's are (`retention`), then purged with their row (no other row shares an object)."""
    statement = (
        select(Submission)
        .where(
            Submission.family_id == family_id,
            Submission.document_type_id == document_type_id,
            _same_person(person_id),
            Submission.state.in_(WAITING_STATES),
        )
        .with_for_update(of=Submission)
    )
    now = utcnow()
    for waiting in await session.scalars(statement):
        seen_by_staff = waiting.state == PENDING
        waiting.state = REPLACED
        waiting.decided_at = now
        # A copy the antivirus never cleared is of no use to anyone: purged the next night.
        waiting.purge_after = now + retention if seen_by_staff else now
        if seen_by_staff:
            # Closes the request `document.submitted` opened (journal, staff digest).
            _record(session, events.DOCUMENT_REPLACED, waiting)
    # Before the new row is inserted: the unique index on waiting rows checks each statement.
    await session.flush()


async def get_submission(
    session: AsyncSession, *, submission_id: str, family_id: str | None = None, lock: bool = False
) -> Submission:
    """The submission (of `family_id` when given), or `DocumentNotFound` — foreign ids alike."""
    statement = select(Submission).where(Submission.id == submission_id)
    if family_id is not None:
        statement = statement.where(Submission.family_id == family_id)
    if lock:
        statement = statement.with_for_update(of=Submission)
    found = await session.scalar(statement)
    if found is None:
        raise DocumentNotFound("Ce document n'existe pas.")
    return found


def never_cleared(submission: Submission, *, antivirus_on: bool) -> bool:
    """Whether the antivirus has yet to clear this submission's files (scanning, or replaced
    while it was): nobody opens those."""
    if submission.state == SCANNING:
        return True
    return antivirus_on and submission.state == REPLACED and submission.scanned_at is None


def record_download(
    session: AsyncSession, *, submission: Submission, file_id: str, by: Identity
) -> None:
    """Journal that `by` downloaded a file of `submission` (an event, in the outbox)."""
    record_event(
        session,
        OutboxMessage,
        source=SOURCE,
        event_type=events.DOCUMENT_DOWNLOADED,
        data=_event_data(submission, file_id=file_id, by=by.subject, by_role=by.role),
        family_id=submission.family_id,
    )


async def record_scan(
    session: AsyncSession, *, submission_id: str, clean: bool, signature: str = ""
) -> list[str]:
    """Apply a verdict to a scanning submission; returns the keys to delete (infected)."""
    submission = await get_submission(session, submission_id=submission_id, lock=True)
    if submission.state != SCANNING:
        return []
    now = utcnow()
    submission.scanned_at = now
    submission.scan_attempts += 1
    if clean:
        submission.state = PENDING
        _record(session, events.DOCUMENT_SUBMITTED, submission)
        return []
    keys = [f.storage_key for f in submission.files]
    submission.state = REFUSED
    submission.decided_at = now
    submission.decided_by = "antivirus"
    submission.refusal_reason = (
        "L'antivirus a détecté un contenu malveillant dans ce fichier : il a été supprimé. "
        "Envoyez une autre copie du document."
    )
    submission.purge_after = now
    # The objects are deleted now; the rows stay until the purge so the family sees why.
    for stored in list(submission.files):
        await session.delete(stored)
    _record(
        session,
        events.DOCUMENT_REFUSED,
        submission,
        reason=submission.refusal_reason,
        antivirus_signature=signature,
    )
    return keys


async def record_scan_failure(session: AsyncSession, *, submission_id: str) -> None:
    """Count a failed scan attempt; the submission stays unseen by staff."""
    submission = await get_submission(session, submission_id=submission_id, lock=True)
    submission.scan_attempts += 1


async def accept(
    session: AsyncSession,
    *,
    submission_id: str,
    staff: str,
    valid_until: date | None,
    settings: DocumentsSettings,
) -> Submission:
    """Staff accept a pending submission; older accepted copies become purgeable."""
    submission = await get_submission(session, submission_id=submission_id, lock=True)
    _require_pending(submission)
    now = utcnow()
    today = today_in_paris(now)
    validity = submission.document_type.validity_days
    if valid_until is None and validity:
        valid_until = today + timedelta(days=validity)
    if valid_until is not None and valid_until < today:
        raise NotReviewable("La date de validité est déjà passée.")
    submission.state = ACCEPTED
    submission.decided_at = now
    submission.decided_by = staff
    submission.valid_until = valid_until
    submission.refusal_reason = None
    if valid_until is not None:
        submission.purge_after = end_of_day_utc(valid_until) + timedelta(
            days=settings.expired_retention_days
        )
    superseded_at = now + timedelta(days=settings.superseded_retention_days)
    for older in await _same_subject(session, submission):
        if older.state == ACCEPTED and older.submitted_at < submission.submitted_at:
            current = older.purge_after if older.purge_after else superseded_at
            older.purge_after = min(current, superseded_at)
    _record(session, events.DOCUMENT_ACCEPTED, submission, valid_until=_iso(valid_until))
    await session.flush()
    return submission


async def refuse(
    session: AsyncSession,
    *,
    submission_id: str,
    staff: str,
    reason: str,
    settings: DocumentsSettings,
) -> Submission:
    """Staff refuse a pending submission with the reason the family will read."""
    submission = await get_submission(session, submission_id=submission_id, lock=True)
    _require_pending(submission)
    now = utcnow()
    submission.state = REFUSED
    submission.decided_at = now
    submission.decided_by = staff
    submission.refusal_reason = reason
    submission.purge_after = now + timedelta(days=settings.refused_retention_days)
    _record(session, events.DOCUMENT_REFUSED, submission, reason=reason)
    await session.flush()
    return submission


def _require_pending(submission: Submission) -> None:
    if submission.state == SCANNING:
        raise NotReviewable("Ce document est encore en cours d'analyse antivirus.")
    if submission.state == REPLACED:
        raise NotReviewable(
            "La famille a envoyé une nouvelle version de ce document : celle-ci est remplacée "
            "et ne peut plus être validée ni refusée. La nouvelle version est dans la liste."
        )
    if submission.state != PENDING:
        raise NotReviewable(
            f"Ce document a déjà été traité ({STATE_LABELS[submission.state].lower()})."
        )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


async def _same_subject(session: AsyncSession, submission: Submission) -> list[Submission]:
    statement = select(Submission).where(
        Submission.family_id == submission.family_id,
        Submission.document_type_id == submission.document_type_id,
        Submission.id != submission.id,
        _same_person(submission.person_id),
    )
    return list(await session.scalars(statement))


def _same_person(person_id: str | None) -> Any:
    if person_id is None:
        return Submission.person_id.is_(None)
    return Submission.person_id == person_id


async def review_queue(
    session: AsyncSession, *, state: str, family_id: str | None, limit: int
) -> list[Submission]:
    """Submissions in `state`, oldest first (what staff should look at next)."""
    statement = select(Submission).where(Submission.state == state)
    if family_id:
        statement = statement.where(Submission.family_id == family_id)
    statement = statement.order_by(Submission.submitted_at).limit(limit)
    return list(await session.scalars(statement))


async def family_submissions(session: AsyncSession, *, family_id: str) -> list[Submission]:
    """Every submission of the family, newest first."""
    statement = (
        select(Submission)
        .where(Submission.family_id == family_id)
        .order_by(Submission.submitted_at.desc())
    )
    return list(await session.scalars(statement))


# ---------------------------------------------------------------- what is expected


Subject = tuple[str, str | None]  # (document type id, person id or None for the family)


def _by_subject(submissions: Iterable[Submission]) -> dict[Subject, list[Submission]]:
    grouped: dict[Subject, list[Submission]] = defaultdict(list)
    for submission in sorted(submissions, key=lambda s: s.submitted_at, reverse=True):
        grouped[(submission.document_type_id, submission.person_id)].append(submission)
    return grouped


def _expected(
    document_type: DocumentType,
    person_id: str | None,
    history: list[Submission],
    today: date,
    soon_days: int,
) -> tuple[ExpectedDocument, bool]:
    latest = history[0] if history else None
    state = display_state(latest, today, soon_days)
    satisfied = any(is_valid(s, today) for s in history)
    item = ExpectedDocument(
        document_type_id=document_type.id,
        name=document_type.name,
        help_text=document_type.help_text,
        mandatory=document_type.mandatory,
        # Rows written before formats were always set hold []: they accept every format.
        accepted_formats=document_type.accepted_formats or list(ALL_FORMATS),
        person_id=person_id,
        state=state,
        state_label=STATE_LABELS[state],
        refusal_reason=latest.refusal_reason if latest and latest.state == REFUSED else None,
        valid_until=latest.valid_until if latest else None,
        submission=submission_read(latest) if latest else None,
        replaced=_replaced_copies(history),
    )
    return item, satisfied


def _replaced_copies(history: list[Submission]) -> list[ReplacedCopy]:
    """The subject's replaced copies, newest first, each with when its successor was sent.

    A copy is replaced by the next one sent (`history` is newest first); the moment it was
    replaced stands in should that one be gone already.
    """
    copies = []
    for index, submission in enumerate(history):
        if submission.state != REPLACED:
            continue
        successor = history[index - 1] if index > 0 else None
        copies.append(
            ReplacedCopy(
                submitted_at=submission.submitted_at,
                replaced_by_submitted_at=(
                    successor.submitted_at
                    if successor
                    else submission.decided_at or submission.submitted_at
                ),
            )
        )
    return copies


def applies_to(document_type: DocumentType, member: Member) -> bool:
    """Whether a person-level document type is expected of this member."""
    return applies_to_concerns(document_type.concerns, member)


def applies_to_concerns(concerns: str, member: Member) -> bool:
    """Whether documents concerning `concerns` ("child", "person") are asked of `member`."""
    return concerns == "person" or (concerns == "child" and member.is_child)


def family_documents(
    *,
    types: Sequence[DocumentType],
    members: Sequence[Member] | None,
    submissions: Sequence[Submission],
    today: date,
    soon_days: int,
) -> FamilyDocuments:
    """What "Mes documents" shows; `members=None` when they could not be read."""
    history = _by_subject(submissions)
    not_satisfied = 0
    family_items = []
    for document_type in types:
        if document_type.concerns == "family":
            item, ok = _expected(
                document_type, None, history.get((document_type.id, None), []), today, soon_days
            )
            family_items.append(item)
            not_satisfied += not ok
    groups = []
    for member in members or ():
        items = []
        for document_type in types:
            if document_type.concerns != "family" and applies_to(document_type, member):
                item, ok = _expected(
                    document_type,
                    member.id,
                    history.get((document_type.id, member.id), []),
                    today,
                    soon_days,
                )
                items.append(item)
                not_satisfied += not ok
        if items:
            groups.append(
                MemberDocuments(
                    person_id=member.id, name=member.name, is_child=member.is_child, documents=items
                )
            )
    return FamilyDocuments(
        family=family_items,
        members=groups,
        expected_count=not_satisfied,
        partial=members is None,
    )


async def completeness(
    session: AsyncSession,
    *,
    family_id: str,
    person_id: str | None,
    activity_id: str | None,
    today: date,
    soon_days: int,
) -> Completeness:
    """Mandatory documents missing or expired for `person_id` in `activity_id`.

    Family-level documents always count; person-level ones ("child" or "person") count for
    the person named, who is the one being registered or booked.
    """
    types = [
        t
        for t in await list_document_types(session)
        if t.mandatory
        and (activity_id is None or t.all_activities or activity_id in t.activity_ids)
    ]
    history = _by_subject(await family_submissions(session, family_id=family_id))
    missing = []
    for document_type in types:
        subject_person = None if document_type.concerns == "family" else person_id
        if document_type.concerns != "family" and person_id is None:
            continue
        submissions = history.get((document_type.id, subject_person), [])
        if not any(is_valid(s, today) for s in submissions):
            state = display_state(submissions[0] if submissions else None, today, soon_days)
            missing.append(
                MissingDocument(
                    document_type_id=document_type.id,
                    name=document_type.name,
                    state=state,
                )
            )
    return Completeness(complete=not missing, missing=missing)


# ---------------------------------------------------------------- org documents


def _published_now(now: datetime) -> Any:
    return (
        (OrgDocument.published_at <= now)
        & or_(OrgDocument.published_until.is_(None), OrgDocument.published_until > now)
        & OrgDocument.storage_key.is_not(None)
    )


async def published_org_documents(session: AsyncSession) -> list[OrgDocument]:
    """The structure's documents published now (with a file), newest first."""
    statement = select(OrgDocument).where(_published_now(utcnow()))
    return list(await session.scalars(statement.order_by(OrgDocument.published_at.desc())))


async def count_published_org_documents(session: AsyncSession) -> int:
    """How many documents families can download now."""
    statement = select(func.count()).select_from(OrgDocument).where(_published_now(utcnow()))
    return int(await session.scalar(statement) or 0)


async def all_org_documents(session: AsyncSession) -> list[OrgDocument]:
    """Every org document, published or not, newest first (staff)."""
    statement = select(OrgDocument).order_by(OrgDocument.published_at.desc())
    return list(await session.scalars(statement))


async def get_org_document(
    session: AsyncSession, *, document_id: str, published_only: bool
) -> OrgDocument:
    """An org document (only a currently published one for families), or 404."""
    statement = select(OrgDocument).where(OrgDocument.id == document_id)
    if published_only:
        statement = statement.where(_published_now(utcnow()))
    found = await session.scalar(statement)
    if found is None:
        raise DocumentNotFound("Ce document n'existe pas.")
    return found


async def create_org_document(session: AsyncSession, *, data: OrgDocumentCreate) -> OrgDocument:
    """Create an org document (listed to families once its file is attached)."""
    values = data.model_dump()
    if values["document_type_id"]:
        await get_document_type(session, type_id=values["document_type_id"], active_only=False)
    now = utcnow()
    values["published_at"] = values["published_at"] or now
    document = OrgDocument(id=str(uuid.uuid4()), created_at=now, **values)
    session.add(document)
    await session.flush()
    return document


async def update_org_document(
    session: AsyncSession, *, document_id: str, data: OrgDocumentUpdate
) -> OrgDocument:
    """Apply the fields that were sent."""
    document = await get_org_document(session, document_id=document_id, published_only=False)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("document_type_id"):
        await get_document_type(session, type_id=changes["document_type_id"], active_only=False)
    for field, value in changes.items():
        if field in ("title", "category", "published_at", "to_return") and value is None:
            continue
        if field == "description" and value is None:
            value = ""  # the column is NOT NULL: null clears the description
        setattr(document, field, value)
    await session.flush()
    return document


async def attach_org_file(
    session: AsyncSession, *, document_id: str, key: str, file: InspectedFile
) -> tuple[OrgDocument, str | None]:
    """Point the org document at its new object; returns the previous key to delete."""
    document = await get_org_document(session, document_id=document_id, published_only=False)
    previous = document.storage_key
    document.storage_key = key
    document.display_name = file.display_name
    document.content_type = file.content_type
    document.size = len(file.data)
    await session.flush()
    return document, previous


async def delete_org_document(session: AsyncSession, *, document_id: str) -> str | None:
    """Delete the org document's row; returns its key so the caller deletes the object."""
    document = await get_org_document(session, document_id=document_id, published_only=False)
    key = document.storage_key
    await session.delete(document)
    return key
