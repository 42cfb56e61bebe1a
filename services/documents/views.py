"""HTTP handlers: parse, check the caller, call the service, serialise."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager

from aiohttp import web

from services.kit.bodies import json_response, read_json, read_query
from services.kit.identity import Identity, caller, holds, require_family, require_staff
from services.kit.keys import DATABASE
from services.kit.openapi import operation
from services.kit.problems import NotFound, ValidationFailed

from . import service, workflow
from .budget import Reservation
from .downloads import stream_object
from .errors import DocumentNotFound, MembersUnavailable, NotReviewable, PersonNotInFamily
from .inspection import decoding_bytes
from .keys import CLAMD, DOCUMENTS_SETTINGS, STORAGE, UPLOAD_BUDGET
from .members import Member, family_members
from .schemas import (
    AcceptBody,
    Completeness,
    CompletenessQuery,
    DocumentTypeCreate,
    DocumentTypeList,
    DocumentTypeRead,
    DocumentTypeUpdate,
    FamilyDocuments,
    OrgDocumentCreate,
    OrgDocumentList,
    OrgDocumentRead,
    OrgDocumentUpdate,
    RefuseBody,
    ReviewQuery,
    SubmissionList,
    SubmissionRead,
    UploadQuery,
)
from .storage import ORG_PREFIX, new_key
from .uploads import FILE_FIELD, UploadedFile, read_files

routes = web.RouteTableDef()
COMPLETENESS_SCOPE = "documents:read"
MAX_ID = 64


def _family_id(request: web.Request) -> str:
    # Ids are at most 64 characters (our columns); a longer one names no family at all.
    family_id = request.match_info["family_id"]
    if len(family_id) > MAX_ID:
        raise NotFound("No such family.")
    return family_id


def _require_family_or_scope(request: web.Request, family_id: str, scope: str) -> Identity:
    identity = caller(request)
    if identity.role == "service" and holds(identity, scope):
        return identity
    return require_family(request, family_id)


# ---------------------------------------------------------------- document types


@routes.get("/document-types")
@operation(
    "Document types (active ones; staff add ?all=true)",
    tags=("document types",),
    response=DocumentTypeList,
    query={"all": "boolean"},
)
async def list_document_types(request: web.Request) -> web.Response:
    """GET /document-types: any signed-in caller."""
    identity = caller(request)
    everything = identity.role == "staff" and request.query.get("all") == "true"
    async with request.app[DATABASE].sessions() as session:
        types = await service.list_document_types(session, include_inactive=everything)
    return json_response(
        DocumentTypeList(items=[DocumentTypeRead.model_validate(t) for t in types])
    )


@routes.post("/document-types")
@operation(
    "Define a document type (staff)",
    tags=("document types",),
    request=DocumentTypeCreate,
    response=DocumentTypeRead,
    status=201,
    errors=(409,),
)
async def create_document_type(request: web.Request) -> web.Response:
    """POST /document-types."""
    require_staff(request)
    data = await read_json(request, DocumentTypeCreate)
    async with request.app[DATABASE].transaction() as session:
        created = await service.create_document_type(session, data=data)
    return json_response(DocumentTypeRead.model_validate(created), status=201)


@routes.patch("/document-types/{type_id}")
@operation(
    "Change a document type (staff)",
    tags=("document types",),
    request=DocumentTypeUpdate,
    response=DocumentTypeRead,
    errors=(404, 409),
)
async def update_document_type(request: web.Request) -> web.Response:
    """PATCH /document-types/{type_id}."""
    require_staff(request)
    data = await read_json(request, DocumentTypeUpdate)
    async with request.app[DATABASE].transaction() as session:
        updated = await service.update_document_type(
            session, type_id=request.match_info["type_id"], data=data
        )
    return json_response(DocumentTypeRead.model_validate(updated))


# ---------------------------------------------------------------- a family's documents


@routes.get("/families/{family_id}/documents")
@operation(
    "What the structure expects of the family, per member, with each state",
    tags=("documents",),
    response=FamilyDocuments,
    errors=(404, 503),
)
async def family_documents(request: web.Request) -> web.Response:
    """GET /families/{family_id}/documents ("Mes documents")."""
    family_id = _family_id(request)
    require_family(request, family_id)
    members: list[Member] | None
    try:
        members = await family_members(request, family_id)
    except MembersUnavailable:
        members = None
    settings = request.app[DOCUMENTS_SETTINGS]
    async with request.app[DATABASE].sessions() as session:
        types = await service.list_document_types(session)
        submissions = await service.family_submissions(session, family_id=family_id)
        result = service.family_documents(
            types=types,
            members=members,
            submissions=submissions,
            today=service.today_in_paris(),
            soon_days=settings.expiring_soon_days,
        )
    return json_response(result)


@routes.post("/families/{family_id}/documents/{type_id}/files")
@operation(
    "Send the file(s) of a document (multipart/form-data, field `file`, repeatable)",
    tags=("documents",),
    response=SubmissionRead,
    status=201,
    errors=(404, 413, 415, 422, 503),
    query={"person_id": "string"},
    files=(FILE_FIELD,),
)
async def upload(request: web.Request) -> web.Response:
    """POST /families/{family_id}/documents/{type_id}/files?person_id=…"""
    family_id = _family_id(request)
    identity = require_family(request, family_id)
    query = read_query(request, UploadQuery)
    async with request.app[DATABASE].sessions() as session:
        document_type = await service.get_document_type(
            session, type_id=request.match_info["type_id"]
        )
    person = await _person_for(request, family_id, document_type.concerns, query.person_id)
    # Everything cheap is checked before the body is read: a foreign family or child is
    # refused without receiving a byte of the file.
    settings = request.app[DOCUMENTS_SETTINGS]
    async with _memory_for(request) as reservation:
        uploads = await read_files(
            request, limit=settings.max_upload_bytes, max_files=settings.max_files_per_upload
        )
        await _make_room_to_check(request, reservation, uploads)
        submission = await workflow.submit(
            request.app[DATABASE],
            request.app[STORAGE],
            request.app[CLAMD],
            family_id=family_id,
            document_type=document_type,
            person=person,
            uploads=uploads,
            submitted_by=identity.subject,
            superseded_retention_days=settings.superseded_retention_days,
            max_image_pixels=settings.max_image_pixels,
        )
        del uploads
    return json_response(service.submission_read(submission), status=201)


# Measured: a file is held about three times at the peak (the bytes received, pypdf's copy
# of a large stream while it is walked, the request S3 is sent).
PEAK_COPIES = 3


def _memory_for(request: web.Request) -> AbstractAsyncContextManager[Reservation]:
    """This upload's share of the replica's memory budget, by its declared size."""
    settings = request.app[DOCUMENTS_SETTINGS]
    size = min(request.content_length or settings.max_upload_bytes, settings.max_upload_bytes)
    return request.app[UPLOAD_BUDGET].hold(PEAK_COPIES * size, wait=settings.upload_wait_seconds)


async def _make_room_to_check(
    request: web.Request, reservation: Reservation, uploads: Sequence[UploadedFile]
) -> None:
    """Trade the upload's share for what checking its files will take: their bytes, and
    the decoding of the largest image read from its header (files are checked one after
    the other), so that big images wait their turn instead of being decoded all at once."""
    decoding = max([await asyncio.to_thread(decoding_bytes, u.data) for u in uploads])
    received = sum(len(u.data) for u in uploads)
    wait = request.app[DOCUMENTS_SETTINGS].upload_wait_seconds
    await reservation.resize(PEAK_COPIES * received + decoding, wait=wait)


async def _person_for(
    request: web.Request, family_id: str, concerns: str, person_id: str | None
) -> Member | None:
    if concerns == "family":
        if person_id:
            raise ValidationFailed(
                "Ce document concerne la famille : n'indiquez pas de personne.",
                errors=[{"field": "person_id", "message": "must be empty for a family document"}],
            )
        return None
    if not person_id:
        raise ValidationFailed(
            "Ce document concerne une personne : précisez laquelle.",
            errors=[{"field": "person_id", "message": "required for this document"}],
        )
    members = await family_members(request, family_id)
    member = next((m for m in members if m.id == person_id), None)
    if member is None:
        raise PersonNotInFamily("Cette personne ne fait pas partie de cette famille.")
    if not service.applies_to_concerns(concerns, member):
        raise ValidationFailed(
            "Ce document n'est demandé que pour les enfants.",
            errors=[{"field": "person_id", "message": "not a child"}],
        )
    return member


@routes.get("/families/{family_id}/submissions/{submission_id}")
@operation(
    "A submission of the family", tags=("documents",), response=SubmissionRead, errors=(404,)
)
async def read_submission(request: web.Request) -> web.Response:
    """GET /families/{family_id}/submissions/{submission_id}."""
    family_id = _family_id(request)
    require_family(request, family_id)
    async with request.app[DATABASE].sessions() as session:
        submission = await service.get_submission(
            session, submission_id=request.match_info["submission_id"], family_id=family_id
        )
    return json_response(service.submission_read(submission))


@routes.get("/families/{family_id}/submissions/{submission_id}/files/{file_id}")
@operation(
    "Download one file of a submission (the family, or staff), as an attachment",
    tags=("documents",),
    errors=(404, 409, 503),
)
async def download_submission_file(request: web.Request) -> web.StreamResponse:
    """GET …/files/{file_id}: streamed by the service after the ownership check."""
    family_id = _family_id(request)
    identity = require_family(request, family_id)
    async with request.app[DATABASE].sessions() as session:
        submission = await service.get_submission(
            session, submission_id=request.match_info["submission_id"], family_id=family_id
        )
    stored = next((f for f in submission.files if f.id == request.match_info["file_id"]), None)
    if stored is None:
        raise DocumentNotFound("Ce fichier n'existe pas.")
    if service.never_cleared(submission, antivirus_on=request.app[CLAMD] is not None):
        # Fail closed: nobody opens a file the antivirus has not cleared.
        raise NotReviewable("Ce fichier est en cours d'analyse antivirus.")
    # Documents are often health data: who opened which one goes to the journal.
    async with request.app[DATABASE].transaction() as session:
        service.record_download(session, submission=submission, file_id=stored.id, by=identity)
    return await stream_object(
        request,
        request.app[STORAGE],
        key=stored.storage_key,
        name=stored.display_name,
        content_type=stored.content_type,
    )


@routes.get("/families/{family_id}/completeness")
@operation(
    "Whether a person's mandatory documents are complete for an activity (bookings asks this)",
    tags=("documents",),
    response=Completeness,
    errors=(404, 422, 503),
    query={"person_id": "string", "activity_id": "string"},
)
async def completeness(request: web.Request) -> web.Response:
    """GET /families/{family_id}/completeness?person_id=…&activity_id=…"""
    family_id = _family_id(request)
    identity = _require_family_or_scope(request, family_id, COMPLETENESS_SCOPE)
    query = read_query(request, CompletenessQuery)
    if query.person_id and identity.role == "family":
        # A parent naming another family's child gets 404, not that child's "incomplete".
        members = await family_members(request, family_id)
        if all(m.id != query.person_id for m in members):
            raise PersonNotInFamily("Cette personne ne fait pas partie de cette famille.")
    async with request.app[DATABASE].sessions() as session:
        result = await service.completeness(
            session,
            family_id=family_id,
            person_id=query.person_id,
            activity_id=query.activity_id,
            today=service.today_in_paris(),
            soon_days=request.app[DOCUMENTS_SETTINGS].expiring_soon_days,
        )
    return json_response(result)


# ---------------------------------------------------------------- staff review


@routes.get("/review/submissions")
@operation(
    "Submissions to review (staff): pending by default, oldest first",
    tags=("review",),
    response=SubmissionList,
    query={"state": "string", "family_id": "string", "limit": "integer"},
)
async def review_queue(request: web.Request) -> web.Response:
    """GET /review/submissions."""
    require_staff(request)
    query = read_query(request, ReviewQuery)
    async with request.app[DATABASE].sessions() as session:
        items = await service.review_queue(
            session, state=query.state, family_id=query.family_id, limit=query.limit
        )
    return json_response(SubmissionList(items=[service.submission_read(s) for s in items]))


@routes.post("/submissions/{submission_id}/accept")
@operation(
    "Accept a submission (staff)",
    tags=("review",),
    request=AcceptBody,
    response=SubmissionRead,
    errors=(404, 409),
)
async def accept_submission(request: web.Request) -> web.Response:
    """POST /submissions/{submission_id}/accept."""
    identity = require_staff(request)
    body = await read_json(request, AcceptBody)
    async with request.app[DATABASE].transaction() as session:
        submission = await service.accept(
            session,
            submission_id=request.match_info["submission_id"],
            staff=identity.subject,
            valid_until=body.valid_until,
            settings=request.app[DOCUMENTS_SETTINGS],
        )
        result = service.submission_read(submission)
    return json_response(result)


@routes.post("/submissions/{submission_id}/refuse")
@operation(
    "Refuse a submission with a reason (staff)",
    tags=("review",),
    request=RefuseBody,
    response=SubmissionRead,
    errors=(404, 409),
)
async def refuse_submission(request: web.Request) -> web.Response:
    """POST /submissions/{submission_id}/refuse."""
    identity = require_staff(request)
    body = await read_json(request, RefuseBody)
    async with request.app[DATABASE].transaction() as session:
        submission = await service.refuse(
            session,
            submission_id=request.match_info["submission_id"],
            staff=identity.subject,
            reason=body.reason,
            settings=request.app[DOCUMENTS_SETTINGS],
        )
        result = service.submission_read(submission)
    return json_response(result)


# ---------------------------------------------------------------- documentation structure


@routes.get("/org-documents")
@operation("The structure's published documents", tags=("documentation",), response=OrgDocumentList)
async def list_org_documents(request: web.Request) -> web.Response:
    """GET /org-documents: for any signed-in caller."""
    caller(request)
    async with request.app[DATABASE].sessions() as session:
        documents = await service.published_org_documents(session)
    return json_response(
        OrgDocumentList(items=[OrgDocumentRead.model_validate(d) for d in documents])
    )


@routes.get("/org-documents/{document_id}/file")
@operation(
    "Download a published document, as an attachment", tags=("documentation",), errors=(404,)
)
async def download_org_document(request: web.Request) -> web.StreamResponse:
    """GET /org-documents/{document_id}/file: published ones; staff any."""
    identity = caller(request)
    async with request.app[DATABASE].sessions() as session:
        document = await service.get_org_document(
            session,
            document_id=request.match_info["document_id"],
            published_only=identity.role != "staff",
        )
    if not document.storage_key:
        raise DocumentNotFound("Ce document n'a pas encore de fichier.")
    return await stream_object(
        request,
        request.app[STORAGE],
        key=document.storage_key,
        name=document.display_name or document.title,
        content_type=document.content_type or "application/octet-stream",
    )


@routes.get("/staff/org-documents")
@operation(
    "Every org document, published or not (staff)",
    tags=("documentation",),
    response=OrgDocumentList,
)
async def list_all_org_documents(request: web.Request) -> web.Response:
    """GET /staff/org-documents."""
    require_staff(request)
    async with request.app[DATABASE].sessions() as session:
        documents = await service.all_org_documents(session)
    return json_response(
        OrgDocumentList(items=[OrgDocumentRead.model_validate(d) for d in documents])
    )


@routes.post("/org-documents")
@operation(
    "Publish a document for families (staff); send its file next",
    tags=("documentation",),
    request=OrgDocumentCreate,
    response=OrgDocumentRead,
    status=201,
    errors=(404,),
)
async def create_org_document(request: web.Request) -> web.Response:
    """POST /org-documents."""
    require_staff(request)
    data = await read_json(request, OrgDocumentCreate)
    async with request.app[DATABASE].transaction() as session:
        document = await service.create_org_document(session, data=data)
    return json_response(OrgDocumentRead.model_validate(document), status=201)


@routes.patch("/org-documents/{document_id}")
@operation(
    "Change a published document (staff)",
    tags=("documentation",),
    request=OrgDocumentUpdate,
    response=OrgDocumentRead,
    errors=(404,),
)
async def update_org_document(request: web.Request) -> web.Response:
    """PATCH /org-documents/{document_id}."""
    require_staff(request)
    data = await read_json(request, OrgDocumentUpdate)
    async with request.app[DATABASE].transaction() as session:
        document = await service.update_org_document(
            session, document_id=request.match_info["document_id"], data=data
        )
    return json_response(OrgDocumentRead.model_validate(document))


@routes.delete("/org-documents/{document_id}")
@operation(
    "Withdraw a document and delete its file (staff)",
    tags=("documentation",),
    status=204,
    errors=(404,),
)
async def delete_org_document(request: web.Request) -> web.Response:
    """DELETE /org-documents/{document_id}."""
    require_staff(request)
    async with request.app[DATABASE].transaction() as session:
        key = await service.delete_org_document(
            session, document_id=request.match_info["document_id"]
        )
    if key:
        await request.app[STORAGE].delete_quietly([key])
    return web.Response(status=204)


@routes.post("/org-documents/{document_id}/files")
@operation(
    "Send (or replace) the file of an org document (staff; multipart, field `file`)",
    tags=("documentation",),
    response=OrgDocumentRead,
    errors=(404, 413, 415, 422, 503),
    files=(FILE_FIELD,),
)
async def upload_org_file(request: web.Request) -> web.Response:
    """POST /org-documents/{document_id}/files."""
    require_staff(request)
    document_id = request.match_info["document_id"]
    async with request.app[DATABASE].sessions() as session:
        await service.get_org_document(session, document_id=document_id, published_only=False)
    settings = request.app[DOCUMENTS_SETTINGS]
    async with _memory_for(request) as reservation:
        uploads = await read_files(request, limit=settings.max_upload_bytes, max_files=1)
        await _make_room_to_check(request, reservation, uploads)
        document = await workflow.publish_file(
            request.app[DATABASE],
            request.app[STORAGE],
            request.app[CLAMD],
            document_id=document_id,
            upload=uploads[0],
            key=new_key(ORG_PREFIX),
            max_image_pixels=settings.max_image_pixels,
        )
    return json_response(OrgDocumentRead.model_validate(document))


# ---------------------------------------------------------------- dashboard


@routes.get("/dashboard/{family_id}")
@operation(
    "The family's dashboard tiles: expected documents, documentation",
    tags=("dashboard",),
    errors=(404,),
)
async def dashboard(request: web.Request) -> web.Response:
    """GET /dashboard/{family_id} → {"documents": {"count": n}, "documentation": {"count": m}}.

    `documents` counts the expected documents not (validly) accepted yet; when the members
    cannot be read, only the family's own documents are counted and `partial` says so.
    """
    family_id = _family_id(request)
    require_family(request, family_id)
    members: list[Member] | None
    try:
        members = await family_members(request, family_id)
    except MembersUnavailable:
        members = None
    async with request.app[DATABASE].sessions() as session:
        expected = service.family_documents(
            types=await service.list_document_types(session),
            members=members,
            submissions=await service.family_submissions(session, family_id=family_id),
            today=service.today_in_paris(),
            soon_days=request.app[DOCUMENTS_SETTINGS].expiring_soon_days,
        )
        published = await service.count_published_org_documents(session)
    tile: dict[str, object] = {"count": expected.expected_count}
    if expected.partial:
        tile["partial"] = True
    return web.json_response({"documents": tile, "documentation": {"count": published}})
