"""An upload from bytes to a recorded submission: check, store, record, scan.

The order is what keeps S3 and the database consistent:
1. every file is checked before anything is stored (a refused file leaves no trace);
2. the objects are stored; if one fails, those stored are deleted and nothing is recorded;
3. the row is committed; if that fails, the objects are deleted;
4. the antivirus runs after the commit; a clean verdict makes the submission visible to
   staff, an infected one refuses it and deletes the objects, no verdict leaves it unseen
   until the retry task gets one.
A crash between 2 and 3 leaves objects without rows: the nightly sweep deletes those.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import structlog

from services.kit.database import Database
from services.kit.problems import ServiceUnavailable

from . import service
from .antivirus import Clamd, ScanUnavailable
from .errors import FileRefused
from .inspection import inspect_file
from .members import Member
from .models import ALL_FORMATS, SCANNING, DocumentType, OrgDocument, Submission
from .service import StoredFile
from .storage import SUBMISSIONS_PREFIX, Storage, new_key
from .uploads import UploadedFile

log = structlog.get_logger(__name__)


async def submit(
    database: Database,
    storage: Storage,
    clamd: Clamd | None,
    *,
    family_id: str,
    document_type: DocumentType,
    person: Member | None,
    uploads: Sequence[UploadedFile],
    submitted_by: str,
    superseded_retention_days: int,
    max_image_pixels: int,
) -> Submission:
    """Check, store and record an upload (replacing the copy still waiting, if any); scan it
    when clamd is configured."""
    accepted = tuple(document_type.accepted_formats) or ALL_FORMATS
    # Parsing PDFs and re-encoding images is CPU work: off the event loop.
    files = [
        await asyncio.to_thread(
            inspect_file, u.data, u.filename, accepted, max_image_pixels=max_image_pixels
        )
        for u in uploads
    ]
    stored = [StoredFile(new_key(SUBMISSIONS_PREFIX), f) for f in files]
    await storage.put_all((s.key, s.file.data, s.file.content_type) for s in stored)
    try:
        async with database.transaction() as session:
            submission = await service.create_submission(
                session,
                family_id=family_id,
                document_type=document_type,
                person=person,
                files=stored,
                submitted_by=submitted_by,
                scanning=clamd is not None,
                superseded_retention_days=superseded_retention_days,
            )
    except BaseException:
        await storage.delete_quietly(s.key for s in stored)
        raise
    if clamd is not None:
        try:
            await scan(database, storage, clamd, submission.id, [s.file.data for s in stored])
        except Exception:
            # The upload is recorded: it stays "en cours d'analyse" and the retry task decides.
            log.exception("antivirus_scan_failed", submission_id=submission.id)
    async with database.sessions() as session:
        return await service.get_submission(session, submission_id=submission.id)


async def scan(
    database: Database,
    storage: Storage,
    clamd: Clamd,
    submission_id: str,
    contents: Sequence[bytes],
) -> str:
    """Scan a submission's files and record the verdict; returns the resulting state."""
    signature = ""
    try:
        for data in contents:
            verdict = await clamd.scan(data)
            if not verdict.clean:
                signature = verdict.signature
                break
    except ScanUnavailable as exc:
        # Fail closed: no verdict, no visibility. The retry task tries again later.
        log.warning("antivirus_unavailable", submission_id=submission_id, error=str(exc))
        async with database.transaction() as session:
            await service.record_scan_failure(session, submission_id=submission_id)
        return SCANNING
    async with database.transaction() as session:
        to_delete = await service.record_scan(
            session, submission_id=submission_id, clean=not signature, signature=signature
        )
    if to_delete:
        log.warning("antivirus_found", submission_id=submission_id, signature=signature)
        await storage.delete_quietly(to_delete)
        return "refused"
    return "pending"


async def publish_file(
    database: Database,
    storage: Storage,
    clamd: Clamd | None,
    *,
    document_id: str,
    upload: UploadedFile,
    key: str,
    max_image_pixels: int,
) -> OrgDocument:
    """Check, scan and store a staff file for an org document; the old object is deleted.

    Staff wait for the verdict here (no queue for org documents): a file clamd cannot
    clear is not published (503), an infected one is refused (422).
    """
    file = await asyncio.to_thread(
        inspect_file, upload.data, upload.filename, max_image_pixels=max_image_pixels
    )
    if clamd is not None:
        try:
            verdict = await clamd.scan(file.data)
        except ScanUnavailable:
            raise ServiceUnavailable(
                "L'antivirus est momentanément indisponible : le document n'est pas publié. "
                "Réessayez plus tard."
            ) from None
        if not verdict.clean:
            raise FileRefused("L'antivirus a détecté un contenu malveillant : fichier refusé.")
    await storage.put(key, file.data, file.content_type)
    try:
        async with database.transaction() as session:
            document, previous = await service.attach_org_file(
                session, document_id=document_id, key=key, file=file
            )
    except BaseException:
        await storage.delete_quietly([key])
        raise
    if previous:
        await storage.delete_quietly([previous])
    return document
