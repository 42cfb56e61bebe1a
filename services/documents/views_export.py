"""RGPD right of access: what this service holds about one family, as one JSON file.

The family itself or staff; another family's id answers 404 like a missing one. Every
submission with its decision and its files' metadata (name, type, size, SHA-256 — never the
bytes: each file is downloaded on its own, and that download is journaled). Like a file's
download, the export is a sensitive access: it is journaled with the event families uses
for its own part (`family.exported`, with `part: documents`), never with its content.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from aiohttp import web
from pydantic import BaseModel

from services.kit.bodies import json_response
from services.kit.identity import require_family
from services.kit.keys import DATABASE
from services.kit.openapi import operation
from services.kit.outbox import record_event, utcnow
from services.kit.problems import NotFound

from . import events, service
from .models import OutboxMessage, Submission
from .schemas import FileRead, SubmissionRead

routes = web.RouteTableDef()
MAX_ID = 64  # our columns' width: a longer id names no family at all


class FileExport(FileRead):
    """A stored file's metadata; its content stays in the object store."""

    sha256: str


class SubmissionExport(SubmissionRead):
    """A submission, its decision and who made each step (account ids)."""

    submitted_by: str
    decided_by: str | None
    files: list[FileExport]  # type: ignore[assignment]  # FileRead plus its hash


class DocumentsExport(BaseModel):
    """This service's part of a family's RGPD access export."""

    service: Literal["documents"] = "documents"
    family_id: str
    exported_at: datetime
    submissions: list[SubmissionExport]


def submission_export(submission: Submission) -> SubmissionExport:
    """The API view of a submission, with its authors and its files' hashes."""
    read = service.submission_read(submission)
    hashes = {f.id: f.sha256 for f in submission.files}
    return SubmissionExport(
        **read.model_dump(exclude={"files"}),
        submitted_by=submission.submitted_by,
        decided_by=submission.decided_by,
        files=[FileExport(**f.model_dump(), sha256=hashes[f.id]) for f in read.files],
    )


@routes.get("/families/{family_id}/export")
@operation(
    "The family's data held by this service (RGPD right of access; files' metadata only)",
    tags=("documents",),
    response=DocumentsExport,
    errors=(404,),
)
async def export_family(request: web.Request) -> web.Response:
    """GET /families/{family_id}/export: the family's submissions, oldest first."""
    family_id = request.match_info["family_id"]
    if len(family_id) > MAX_ID:
        raise NotFound("No such family.")
    identity = require_family(request, family_id)
    async with request.app[DATABASE].transaction() as session:
        found = await service.family_submissions(session, family_id=family_id)
        export = DocumentsExport(
            family_id=family_id,
            exported_at=utcnow(),
            submissions=[submission_export(s) for s in reversed(found)],
        )
        # Who read the family's file list goes to the journal, in the same transaction.
        record_event(
            session,
            OutboxMessage,
            source=service.SOURCE,
            event_type=events.FAMILY_EXPORTED,
            data={
                "family_id": family_id,
                "by": identity.subject,
                "role": identity.role,
                "part": "documents",
            },
            family_id=family_id,
        )
    response = json_response(export)
    response.headers["Content-Disposition"] = 'attachment; filename="documents.json"'
    return response
