"""HTTP handlers: parse, check the caller, call the service, serialise."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from services.kit.app import REDIS
from services.kit.identity import caller, require_family, require_scope, require_staff
from services.kit.keys import DATABASE
from services.kit.openapi import IDEMPOTENT_REPLAYED, idempotency_key, operation
from services.kit.outbox import utcnow
from services.kit.problems import Conflict, NotFound, Problem

from . import change_requests, events, idempotency, service
from .access import WRITE_SCOPE, family_editor, family_reader, policy_role, records_reader
from .errors import StaleVersion
from .lapses import ARCHIVED, mark_archived
from .policy import load_policy, read_policy, update_policy
from .schemas import (
    CHANGES_PAGE,
    MAX_CHANGES,
    BatchDecision,
    BatchOutcome,
    BatchResult,
    ChangeRequestCreate,
    ChangeRequestRead,
    ChangesQuery,
    ChangesRead,
    Decision,
    FamilyContacts,
    FamilyCreate,
    FamilyDetail,
    FamilyExport,
    FamilyNames,
    FamilyNamesQuery,
    FamilyRead,
    FamilyUpdate,
    MemberLink,
    MyFamily,
    PersonChange,
    PersonCreate,
    PersonDetail,
    PersonRead,
    PersonUpdate,
    PolicyRead,
    PolicyUpdate,
    QueueQuery,
    QuotientUpdate,
    RequestFilter,
    RequestPage,
    SearchQuery,
    SearchResult,
    StaffChangeRequestRead,
)
from .validation import read_body, read_params

routes = web.RouteTableDef()

MAX_SEARCH_PAGE = 50
MAX_QUEUE_PAGE = 100
MAX_ID_LENGTH = 36


def respond(
    model: BaseModel | list[BaseModel], *, status: int = 200, exclude: set[str] | None = None
) -> web.Response:
    """Serialise exactly the schema's fields, minus those hidden from the caller."""
    if isinstance(model, list):
        body = "[" + ",".join(m.model_dump_json(exclude=exclude) for m in model) + "]"
    else:
        body = model.model_dump_json(exclude=exclude)
    return web.Response(text=body, status=status, content_type="application/json")


@asynccontextmanager
async def writing(request: web.Request) -> AsyncIterator[AsyncSession]:
    """One transaction; a concurrent write that won the race answers 409, never a 500."""
    try:
        async with request.app[DATABASE].transaction() as session:
            yield session
    except StaleDataError:
        raise StaleVersion(
            "Ce dossier a été modifié au même moment : rechargez-le et recommencez."
        ) from None
    except IntegrityError:
        raise Conflict(
            "Cette modification contredit les données enregistrées : rien n'a été modifié."
        ) from None


def path_id(request: web.Request, name: str) -> str:
    """An id from the path; one no record can have (too long, control characters) is a 404."""
    value = request.match_info[name]
    if len(value) > MAX_ID_LENGTH or any(ord(c) < 32 for c in value):
        raise NotFound("No such resource.")
    return value


async def _decision(request: web.Request) -> Decision:
    if not request.can_read_body:
        return Decision()
    return await read_body(request, Decision)


# --- The family's own views ------------------------------------------------------------


@routes.get("/me/families")
@operation(
    "The households of the signed-in account", tags=("family",), response=MyFamily, many=True
)
async def my_families(request: web.Request) -> web.Response:
    """GET /me/families: the caller's households (none for staff)."""
    identity = caller(request)
    async with request.app[DATABASE].sessions() as session:
        found = await service.my_families(session, family_ids=identity.family_ids)
    return respond(list(found))


@routes.get("/families/{family_id}")
@operation(
    "Read a family with the caller's field rules",
    tags=("family",),
    response=FamilyDetail,
    errors=(404,),
)
async def read_family(request: web.Request) -> web.Response:
    """GET /families/{family_id}: the caller's own family, or any family for staff."""
    family_id = path_id(request, "family_id")
    role = policy_role(family_reader(request, family_id))
    async with request.app[DATABASE].sessions() as session:
        family = await service.get_family(session, family_id=family_id)
        policy = await load_policy(session)
        pending = await change_requests.list_for_family(
            session, family_id=family_id, state="pending"
        )
    detail = FamilyDetail.model_validate(family, from_attributes=True)
    detail.fields = policy.rules("family", role)
    detail.pending_fields = change_requests.pending_fields(pending, "family", None)
    return respond(detail, exclude=policy.hidden("family", role))


@routes.get("/families/{family_id}/persons")
@operation(
    "The persons of a family", tags=("family",), response=PersonRead, many=True, errors=(404,)
)
async def list_persons(request: web.Request) -> web.Response:
    """GET /families/{family_id}/persons: responsables, children, other contacts."""
    family_id = path_id(request, "family_id")
    role = policy_role(family_reader(request, family_id))
    async with request.app[DATABASE].sessions() as session:
        await service.get_family(session, family_id=family_id)
        persons = await service.list_persons(session, family_id=family_id)
        policy = await load_policy(session)
    reads: list[BaseModel] = [PersonRead.model_validate(p) for p in persons]
    return respond(reads, exclude=policy.hidden("person", role))


@routes.get("/families/{family_id}/persons/{person_id}")
@operation(
    "A person of the family (other services check membership and birth date here)",
    tags=("family",),
    response=PersonDetail,
    errors=(404,),
)
async def read_person(request: web.Request) -> web.Response:
    """GET /families/{family_id}/persons/{person_id}: 404 unless the person is a member."""
    family_id, person_id = path_id(request, "family_id"), path_id(request, "person_id")
    role = policy_role(family_reader(request, family_id))
    async with request.app[DATABASE].sessions() as session:
        person = await service.get_person(session, family_id=family_id, person_id=person_id)
        policy = await load_policy(session)
        pending = await change_requests.list_for_family(
            session, family_id=family_id, state="pending"
        )
    detail = PersonDetail.model_validate(person, from_attributes=True)
    detail.fields = policy.rules("person", role, person.role)
    detail.pending_fields = change_requests.pending_fields(pending, "person", person_id)
    return respond(detail, exclude=policy.hidden("person", role))


@routes.post("/families/{family_id}/requests")
@operation(
    "Ask staff to change fields of the family or of one of its persons",
    tags=("family",),
    request=ChangeRequestCreate,
    response=ChangeRequestRead,
    status=201,
    errors=(404, 409),
)
async def submit_request(request: web.Request) -> web.Response:
    """POST /families/{family_id}/requests: saved as pending, applied only once accepted."""
    family_id = path_id(request, "family_id")
    identity = family_editor(request, family_id)
    data = await read_body(request, ChangeRequestCreate)
    async with writing(request) as session:
        created = await change_requests.submit(
            session, family_id=family_id, data=data, subject=identity.subject
        )
        views = await change_requests.family_views(session, [created])
    return respond(views[0], status=201)


@routes.get("/families/{family_id}/requests")
@operation(
    "The family's change requests, newest first",
    tags=("family",),
    response=ChangeRequestRead,
    many=True,
    errors=(404,),
    query={"state": "string"},
)
async def list_requests(request: web.Request) -> web.Response:
    """GET /families/{family_id}/requests[?state=pending]."""
    family_id = path_id(request, "family_id")
    require_family(request, family_id)
    state = read_params(request, RequestFilter).state
    async with request.app[DATABASE].sessions() as session:
        await service.get_family(session, family_id=family_id)
        found = await change_requests.list_for_family(session, family_id=family_id, state=state)
        views = await change_requests.family_views(session, found)
    return respond(list(views))


@routes.get("/families/{family_id}/requests/{request_id}")
@operation(
    "One change request of the family", tags=("family",), response=ChangeRequestRead, errors=(404,)
)
async def read_request(request: web.Request) -> web.Response:
    """GET /families/{family_id}/requests/{request_id}."""
    family_id, request_id = path_id(request, "family_id"), path_id(request, "request_id")
    require_family(request, family_id)
    async with request.app[DATABASE].sessions() as session:
        found = await change_requests.get_request(
            session, request_id=request_id, family_id=family_id
        )
        views = await change_requests.family_views(session, [found])
    return respond(views[0])


@routes.post("/families/{family_id}/requests/{request_id}/withdraw")
@operation(
    "Withdraw a pending request",
    tags=("family",),
    response=ChangeRequestRead,
    errors=(404, 409),
)
async def withdraw_request(request: web.Request) -> web.Response:
    """POST /families/{family_id}/requests/{request_id}/withdraw."""
    family_id, request_id = path_id(request, "family_id"), path_id(request, "request_id")
    identity = family_editor(request, family_id)
    async with writing(request) as session:
        withdrawn = await change_requests.withdraw(
            session, family_id=family_id, request_id=request_id, subject=identity.subject
        )
        views = await change_requests.family_views(session, [withdrawn])
    return respond(views[0])


@routes.get("/families/{family_id}/export")
@operation(
    "The family's data held by this service (RGPD right of access)",
    tags=("family",),
    response=FamilyExport,
    errors=(404,),
)
async def export_family(request: web.Request) -> web.Response:
    """GET /families/{family_id}/export: this family's record, persons and requests only."""
    family_id = path_id(request, "family_id")
    identity = require_family(request, family_id)
    async with writing(request) as session:
        family = await service.get_family(session, family_id=family_id)
        persons = await service.list_persons(session, family_id=family_id)
        found = await service.requests_of_family(session, family_id=family_id)
        views = await change_requests.family_views(session, found)
        # The access itself is journaled (by the notifications service), the content never.
        service.emit(
            session, events.FAMILY_EXPORTED, family_id, by=identity.subject, role=identity.role
        )
    export = FamilyExport(
        exported_at=utcnow(),
        family=FamilyRead.model_validate(family),
        persons=[PersonRead.model_validate(p) for p in persons],
        change_requests=views,
    )
    response = respond(export)
    response.headers["Content-Disposition"] = 'attachment; filename="famille.json"'
    return response


@routes.get("/dashboard/{family_id}")
@operation("The family's dashboard tile: its persons", tags=("dashboard",), errors=(404,))
async def dashboard(request: web.Request) -> web.Response:
    """GET /dashboard/{family_id} → {"famille": {"count": n}}."""
    family_id = path_id(request, "family_id")
    require_family(request, family_id)
    async with request.app[DATABASE].sessions() as session:
        count = await service.count_persons(session, family_id=family_id)
    return web.json_response({"famille": {"count": count}})


# --- Staff and municipal systems: direct writes ----------------------------------------


@routes.post("/families")
@operation(
    "Create a family (staff, or a municipal system with families:write); with an "
    "`Idempotency-Key` header, a retry replays the first answer (`Idempotent-Replayed: true`) "
    "instead of creating a second family: the same key with another body is 422, "
    "while the first is still running 409",
    tags=("records",),
    request=FamilyCreate,
    response=FamilyRead,
    status=201,
    errors=(409,),
    headers={idempotency.HEADER: idempotency_key(idempotency.KEY)},
    response_headers={"Idempotent-Replayed": IDEMPOTENT_REPLAYED},
)
async def create_family(request: web.Request) -> web.Response:
    """POST /families [Idempotency-Key: …]."""
    identity = require_scope(request, WRITE_SCOPE)
    data = await read_body(request, FamilyCreate)
    claim = idempotency.claim_of(request, identity, data)
    try:
        async with writing(request) as session:
            if claim is not None:
                await idempotency.take(session, claim)
            created = FamilyRead.model_validate(await service.create_family(session, data=data))
            if claim is not None:
                idempotency.keep(session, claim, status=201, response=created)
    except idempotency.Replay as replay:
        return replay.as_response()
    return respond(created, status=201)


@routes.patch("/families/{family_id}")
@operation(
    "Edit a family directly, its quotient included (staff, or families:write), against its "
    "version: all of it is saved, or nothing",
    tags=("records",),
    request=FamilyUpdate,
    response=FamilyRead,
    errors=(404, 409),
)
async def update_family(request: web.Request) -> web.Response:
    """PATCH /families/{family_id}: 409 when `version` is stale, and nothing written."""
    identity = require_scope(request, WRITE_SCOPE)
    data = await read_body(request, FamilyUpdate)
    async with writing(request) as session:
        family = await service.update_family(
            session,
            family_id=path_id(request, "family_id"),
            data=data,
            role=policy_role(identity),
            actor=identity.subject,
        )
    if "status" in data.model_fields_set and family.status == ARCHIVED:
        # Once committed: what other services made for the family (bookings' calendar links)
        # stops working from now on, and stays dead if the family is reactivated.
        await mark_archived(request.app[REDIS], family.id, family.updated_at)
    return respond(FamilyRead.model_validate(family))


@routes.put("/families/{family_id}/quotient")
@operation(
    "Record the quotient familial with its date and source (staff, or families:write)",
    tags=("records",),
    request=QuotientUpdate,
    response=FamilyRead,
    errors=(404, 409),
)
async def set_quotient(request: web.Request) -> web.Response:
    """PUT /families/{family_id}/quotient."""
    identity = require_scope(request, WRITE_SCOPE)
    data = await read_body(request, QuotientUpdate)
    async with writing(request) as session:
        family = await service.set_quotient(
            session, family_id=path_id(request, "family_id"), data=data, actor=identity.subject
        )
    return respond(FamilyRead.model_validate(family))


@routes.post("/families/{family_id}/persons")
@operation(
    "Add a person to a family (staff, or families:write); with an `Idempotency-Key` header, "
    "a retry replays the first answer (`Idempotent-Replayed: true`) instead of adding the "
    "person twice: the same key with another body (or for another family) is 422, while the "
    "first is still running 409",
    tags=("records",),
    request=PersonCreate,
    response=PersonRead,
    status=201,
    errors=(404, 409),
    headers={idempotency.HEADER: idempotency_key(idempotency.KEY)},
    response_headers={"Idempotent-Replayed": IDEMPOTENT_REPLAYED},
)
async def create_person(request: web.Request) -> web.Response:
    """POST /families/{family_id}/persons [Idempotency-Key: …]."""
    identity = require_scope(request, WRITE_SCOPE)
    family_id = path_id(request, "family_id")
    data = await read_body(request, PersonCreate)
    # The path is part of the fingerprint: the key of a child added to one family is refused
    # for another.
    claim = idempotency.claim_of(request, identity, data)
    try:
        async with writing(request) as session:
            if claim is not None:
                await idempotency.take(session, claim)
            person = await service.create_person(
                session, family_id=family_id, data=data, actor=identity.subject
            )
            created = PersonRead.model_validate(person)
            if claim is not None:
                idempotency.keep(session, claim, status=201, response=created)
    except idempotency.Replay as replay:
        return replay.as_response()
    return respond(created, status=201)


@routes.patch("/families/{family_id}/persons/{person_id}")
@operation(
    "Edit a person directly (staff, or families:write), against its version",
    tags=("records",),
    request=PersonUpdate,
    response=PersonRead,
    errors=(404, 409),
)
async def update_person(request: web.Request) -> web.Response:
    """PATCH /families/{family_id}/persons/{person_id}: 409 when `version` is stale."""
    identity = require_scope(request, WRITE_SCOPE)
    data = await read_body(request, PersonUpdate)
    async with writing(request) as session:
        person = await service.update_person(
            session,
            family_id=path_id(request, "family_id"),
            person_id=path_id(request, "person_id"),
            data=data,
            role=policy_role(identity),
            actor=identity.subject,
        )
    return respond(PersonRead.model_validate(person))


@routes.post("/families/{family_id}/members")
@operation(
    "Make an existing person a member of this household too (staff, or families:write)",
    tags=("records",),
    request=MemberLink,
    response=PersonRead,
    errors=(404,),
)
async def link_person(request: web.Request) -> web.Response:
    """POST /families/{family_id}/members: a child of separated parents in both homes."""
    identity = require_scope(request, WRITE_SCOPE)
    data = await read_body(request, MemberLink)
    async with writing(request) as session:
        person = await service.link_person(
            session,
            family_id=path_id(request, "family_id"),
            person_id=data.person_id,
            actor=identity.subject,
        )
    return respond(PersonRead.model_validate(person))


@routes.get("/changes")
@operation(
    "Families and persons changed since a date (staff, or families:read)",
    tags=("records",),
    response=ChangesRead,
    query={
        "since": "string",
        "cursor": "string",
        "limit": {"type": "integer", "minimum": 1, "maximum": MAX_CHANGES, "default": CHANGES_PAGE},
    },
)
async def changes(request: web.Request) -> web.Response:
    """GET /changes?since=2026-01-01T00:00:00Z, then ?cursor=… until `next_cursor` is null."""
    records_reader(request)
    query = read_params(request, ChangesQuery)
    position = (
        service.FeedPosition(query.since)
        if query.since is not None
        else service.FeedPosition.decode(query.cursor or "")
    )
    async with request.app[DATABASE].sessions() as session:
        families, persons, next_position = await service.changes_after(
            session, position=position, limit=query.limit
        )
        households = await service.households_of(session, [p.id for p in persons])
    return respond(
        ChangesRead(
            families=[FamilyRead.model_validate(f) for f in families],
            persons=[
                PersonChange(
                    **PersonRead.model_validate(p).model_dump(), family_ids=households.get(p.id, [])
                )
                for p in persons
            ],
            next_cursor=next_position.encode() if next_position else None,
        )
    )


@routes.post("/families/names")
@operation(
    "The names of many families at once, for staff lists (staff, or families:read)",
    tags=("records",),
    request=FamilyNamesQuery,
    response=FamilyNames,
)
async def names_of_families(request: web.Request) -> web.Response:
    """POST /families/names {"ids": [...]} (200 at most): the names of those that exist.

    A body, not a query string: 200 ids would not fit in a request line."""
    records_reader(request)
    query = await read_body(request, FamilyNamesQuery)
    async with request.app[DATABASE].sessions() as session:
        found = await service.family_names(session, family_ids=query.ids)
    return respond(FamilyNames(families=found))


@routes.post("/families/contacts")
@operation(
    "The name and phone (main, else other) of many families at once, for staff lists such as "
    "the attendance sheet (staff, or families:read)",
    tags=("records",),
    request=FamilyNamesQuery,
    response=FamilyContacts,
)
async def contacts_of_families(request: web.Request) -> web.Response:
    """POST /families/contacts {"ids": [...]} (200 at most): one call for a whole list,
    instead of one `GET /families/{id}` per family. A phone the field policy hides from the
    caller is not given, as on `GET /families/{id}`."""
    identity = records_reader(request)
    query = await read_body(request, FamilyNamesQuery)
    async with request.app[DATABASE].sessions() as session:
        hidden = (await load_policy(session)).hidden("family", policy_role(identity))
        found = await service.family_contacts(session, family_ids=query.ids, hidden=hidden)
    return respond(FamilyContacts(families=found))


# --- Staff back office ------------------------------------------------------------------


@routes.get("/staff/families")
@operation(
    "Search families by name, a person's name or an e-mail (staff)",
    tags=("staff",),
    response=SearchResult,
    query={"q": "string", "page": "integer", "size": "integer"},
)
async def search_families(request: web.Request) -> web.Response:
    """GET /staff/families?q=dupont&page=1&size=20 (size capped at 50)."""
    require_staff(request)
    query = read_params(request, SearchQuery)
    size = min(query.size, MAX_SEARCH_PAGE)
    async with request.app[DATABASE].sessions() as session:
        items, total = await service.search_families(session, q=query.q, page=query.page, size=size)
    return respond(SearchResult(items=items, page=query.page, size=size, total=total))


@routes.get("/staff/requests")
@operation(
    "The queue of change requests, oldest first, beside today's values (staff)",
    tags=("staff",),
    response=RequestPage,
    query={"state": "string", "family_id": "string", "page": "integer", "size": "integer"},
)
async def request_queue(request: web.Request) -> web.Response:
    """GET /staff/requests?state=pending."""
    require_staff(request)
    query = read_params(request, QueueQuery)
    size = min(query.size, MAX_QUEUE_PAGE)
    async with request.app[DATABASE].sessions() as session:
        items, total = await change_requests.queue(
            session, state=query.state, family_id=query.family_id, page=query.page, size=size
        )
    return respond(RequestPage(items=items, page=query.page, size=size, total=total))


@routes.get("/staff/requests/{request_id}")
@operation(
    "One change request with today's values (staff)",
    tags=("staff",),
    response=StaffChangeRequestRead,
    errors=(404,),
)
async def staff_read_request(request: web.Request) -> web.Response:
    """GET /staff/requests/{request_id}."""
    require_staff(request)
    async with request.app[DATABASE].sessions() as session:
        found = await change_requests.get_request(
            session, request_id=path_id(request, "request_id")
        )
        view = await change_requests.staff_view(session, found)
    return respond(view)


async def _decide(request: web.Request, *, accept: bool) -> web.Response:
    identity = require_staff(request)
    decision = await _decision(request)
    async with writing(request) as session:
        decided = await change_requests.decide(
            session,
            request_id=path_id(request, "request_id"),
            accept=accept,
            reason=decision.reason,
            subject=identity.subject,
        )
        view = await change_requests.staff_view(session, decided)
    return respond(view)


@routes.post("/staff/requests/{request_id}/accept")
@operation(
    "Accept a request: the change is applied and the family notified (staff)",
    tags=("staff",),
    request=Decision,
    response=StaffChangeRequestRead,
    errors=(404, 409),
)
async def accept_request(request: web.Request) -> web.Response:
    """POST /staff/requests/{request_id}/accept."""
    return await _decide(request, accept=True)


@routes.post("/staff/requests/{request_id}/refuse")
@operation(
    "Refuse a request with a reason the family will read (staff)",
    tags=("staff",),
    request=Decision,
    response=StaffChangeRequestRead,
    errors=(404, 409),
)
async def refuse_request(request: web.Request) -> web.Response:
    """POST /staff/requests/{request_id}/refuse."""
    return await _decide(request, accept=False)


@routes.post("/staff/requests/batch")
@operation(
    "Accept or refuse several requests; each succeeds or fails on its own (staff)",
    tags=("staff",),
    request=BatchDecision,
    response=BatchResult,
)
async def decide_batch(request: web.Request) -> web.Response:
    """POST /staff/requests/batch: one outcome per request (200, 404 or 409)."""
    identity = require_staff(request)
    batch = await read_body(request, BatchDecision)
    results = []
    for request_id in dict.fromkeys(batch.request_ids):
        try:
            async with writing(request) as session:
                decided = await change_requests.decide(
                    session,
                    request_id=request_id,
                    accept=batch.decision == "accept",
                    reason=batch.reason,
                    subject=identity.subject,
                )
            results.append(BatchOutcome(request_id=request_id, status=200, state=decided.state))
        except Problem as problem:
            results.append(
                BatchOutcome(request_id=request_id, status=problem.status, detail=problem.detail)
            )
    return respond(BatchResult(results=results))


@routes.get("/staff/policy")
@operation(
    "The field policy: access per field and role (staff)", tags=("staff",), response=PolicyRead
)
async def get_policy(request: web.Request) -> web.Response:
    """GET /staff/policy."""
    require_staff(request)
    async with request.app[DATABASE].sessions() as session:
        rules = await read_policy(session)
    return respond(PolicyRead(rules=rules))


@routes.put("/staff/policy")
@operation(
    "Change the access of fields for a role (staff)",
    tags=("staff",),
    request=PolicyUpdate,
    response=PolicyRead,
)
async def put_policy(request: web.Request) -> web.Response:
    """PUT /staff/policy: all the rules given, or none."""
    identity = require_staff(request)
    data = await read_body(request, PolicyUpdate)
    async with writing(request) as session:
        rules = await update_policy(session, changes=data.rules, actor=identity.subject)
    return respond(PolicyRead(rules=rules))
