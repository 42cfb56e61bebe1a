"""HTTP handlers of registrations: the family's requests, the staff queue and decisions."""

from __future__ import annotations

from aiohttp import web

from services.kit.bodies import json_response, read_json, read_query
from services.kit.identity import require_family, require_scope
from services.kit.keys import DATABASE, HTTP_CLIENT, SETTINGS
from services.kit.openapi import operation
from services.kit.problems import Problem

from . import registrations
from .clock import CLOCK
from .feed import next_cursor
from .registrations import RegistrationView
from .schemas import (
    STATE_LABELS,
    DecisionBatch,
    DecisionBatchResult,
    DecisionResult,
    FamilyRegistrationQuery,
    RefusalCreate,
    RegistrationCreate,
    RegistrationList,
    RegistrationQuery,
    RegistrationRead,
)
from .upstream import Upstream

routes = web.RouteTableDef()
TAGS = ("registrations",)
FAMILY_FILTERS = {
    "person_id": "string",
    "activity_id": "string",
    "period_id": "string",
    "state": "string",
    "school_year": "string",
}


def registration_read(view: RegistrationView) -> RegistrationRead:
    """The API's view of a registration."""
    r = view.registration
    return RegistrationRead(
        id=r.id,
        family_id=r.family_id,
        person_id=r.person_id,
        person_name=r.person_name,
        activity_id=r.activity_id,
        activity_name=view.activity_name,
        period_id=r.period_id,
        period_name=view.period_name,
        school_year=view.school_year,
        group_id=r.group_id,
        group_name=view.group_name,
        state=r.state,
        state_label=STATE_LABELS[r.state],
        refusal_reason=r.refusal_reason,
        created_at=r.created_at,
        decided_at=r.decided_at,
        updated_at=r.updated_at,
    )


@routes.get("/families/{family_id}/registrations")
@operation(
    'A family\'s registrations ("Mes inscriptions"), filtered',
    tags=TAGS,
    response=RegistrationList,
    errors=(404,),
    query=FAMILY_FILTERS,
)
async def list_family_registrations(request: web.Request) -> web.Response:
    """GET /families/{family_id}/registrations."""
    family_id = request.match_info["family_id"]
    require_family(request, family_id)
    query = read_query(request, FamilyRegistrationQuery)
    async with request.app[DATABASE].sessions() as session:
        views = await registrations.family_registrations(session, family_id=family_id, query=query)
    return json_response(RegistrationList(items=[registration_read(v) for v in views]))


@routes.post("/families/{family_id}/registrations")
@operation(
    "Request the registration of a member to an activity for a period",
    tags=TAGS,
    request=RegistrationCreate,
    response=RegistrationRead,
    status=201,
    errors=(404, 409, 424),
)
async def request_registration(request: web.Request) -> web.Response:
    """POST /families/{family_id}/registrations: every rule checked here, at commit time."""
    family_id = request.match_info["family_id"]
    identity = require_family(request, family_id, right="book")
    data = await read_json(request, RegistrationCreate)
    upstream = Upstream(
        http=request.app[HTTP_CLIENT],
        gateway_url=request.app[SETTINGS].gateway_url,
        authorization=request.headers.get("Authorization", ""),
    )
    view = await registrations.request_registration(
        request.app[DATABASE],
        upstream=upstream,
        clock=request.app[CLOCK],
        family_id=family_id,
        data=data,
        actor=identity.acted,
    )
    return json_response(registration_read(view), status=201)


@routes.get("/families/{family_id}/registrations/{registration_id}")
@operation("One of the family's registrations", tags=TAGS, response=RegistrationRead, errors=(404,))
async def read_family_registration(request: web.Request) -> web.Response:
    """GET /families/{family_id}/registrations/{registration_id}."""
    family_id = request.match_info["family_id"]
    require_family(request, family_id)
    async with request.app[DATABASE].sessions() as session:
        view = await registrations.family_registration(
            session, family_id=family_id, registration_id=request.match_info["registration_id"]
        )
    return json_response(registration_read(view))


@routes.post("/families/{family_id}/registrations/{registration_id}/cancel")
@operation(
    "Withdraw a pending or accepted registration",
    tags=TAGS,
    response=RegistrationRead,
    errors=(404, 409),
)
async def cancel_registration(request: web.Request) -> web.Response:
    """POST /families/{family_id}/registrations/{registration_id}/cancel."""
    family_id = request.match_info["family_id"]
    identity = require_family(request, family_id, right="book")
    async with request.app[DATABASE].transaction() as session:
        view = await registrations.cancel_registration(
            session,
            family_id=family_id,
            registration_id=request.match_info["registration_id"],
            now=request.app[CLOCK](),
            actor=identity.acted,
        )
    return json_response(registration_read(view))


@routes.get("/registrations")
@operation(
    "Registrations of every family: the staff queue (state=requested) and municipal reads "
    "(since=, changed at or after, oldest first; a full page gives next_cursor for cursor=)",
    tags=TAGS,
    response=RegistrationList,
    query={
        **FAMILY_FILTERS,
        "family_id": "string",
        "since": "string",
        "cursor": "string",
        "limit": "integer",
    },
)
async def list_registrations(request: web.Request) -> web.Response:
    """GET /registrations (staff, or bookings:read)."""
    require_scope(request, "bookings:read")
    query = read_query(request, RegistrationQuery)
    async with request.app[DATABASE].sessions() as session:
        views = await registrations.all_registrations(session, query=query)
    items = [registration_read(v) for v in views]
    return json_response(RegistrationList(items=items, next_cursor=next_cursor(items, query.limit)))


async def _decide(request: web.Request, *, accept: bool, reason: str | None) -> web.Response:
    identity = require_scope(request, "bookings:write")
    async with request.app[DATABASE].transaction() as session:
        view = await registrations.decide(
            session,
            registration_id=request.match_info["registration_id"],
            accept=accept,
            reason=reason,
            now=request.app[CLOCK](),
            actor=identity.acted,
        )
    return json_response(registration_read(view))


@routes.post("/registrations/{registration_id}/accept")
@operation("Accept a pending request", tags=TAGS, response=RegistrationRead, errors=(404, 409))
async def accept_registration(request: web.Request) -> web.Response:
    """POST /registrations/{registration_id}/accept."""
    require_scope(request, "bookings:write")
    return await _decide(request, accept=True, reason=None)


@routes.post("/registrations/{registration_id}/refuse")
@operation(
    "Refuse a pending request, with the reason the family will read",
    tags=TAGS,
    request=RefusalCreate,
    response=RegistrationRead,
    errors=(404, 409),
)
async def refuse_registration(request: web.Request) -> web.Response:
    """POST /registrations/{registration_id}/refuse."""
    require_scope(request, "bookings:write")
    data = await read_json(request, RefusalCreate)
    return await _decide(request, accept=False, reason=data.reason)


@routes.post("/registrations/decisions")
@operation(
    "Accept or refuse several requests; each decision stands alone",
    tags=TAGS,
    request=DecisionBatch,
    response=DecisionBatchResult,
)
async def decide_batch(request: web.Request) -> web.Response:
    """POST /registrations/decisions."""
    identity = require_scope(request, "bookings:write")
    batch = await read_json(request, DecisionBatch)
    results: list[DecisionResult] = []
    for decision in batch.decisions:
        try:
            async with request.app[DATABASE].transaction() as session:
                view = await registrations.decide(
                    session,
                    registration_id=decision.registration_id,
                    accept=decision.decision == "accept",
                    reason=decision.reason,
                    now=request.app[CLOCK](),
                    actor=identity.acted,
                )
            results.append(
                DecisionResult(
                    registration_id=decision.registration_id,
                    ok=True,
                    state=view.registration.state,
                )
            )
        except Problem as problem:
            results.append(
                DecisionResult(
                    registration_id=decision.registration_id, ok=False, detail=problem.detail
                )
            )
    return json_response(DecisionBatchResult(results=results))
