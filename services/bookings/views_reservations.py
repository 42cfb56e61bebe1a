"""HTTP handlers of reservations: the planning, saves, repeats, calendar links, staff lists,
attendance, closures, municipal reads and billing's billable lines."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from services.kit.app import REDIS
from services.kit.bodies import json_response, read_json, read_query
from services.kit.identity import caller, holds, require_family, require_scope
from services.kit.keys import DATABASE, HTTP_CLIENT, SETTINGS
from services.kit.openapi import IDEMPOTENT_REPLAYED, idempotency_key, operation
from services.kit.problems import BadRequest, Conflict, Forbidden, NotFound, Problem

from . import attendance, calendar_feed, grid, reservations
from .clock import CLOCK
from .models import Reservation
from .repeat import repeat_changes
from .schemas_reservations import (
    MAX_PLANNING_DAYS,
    ROSTER_SPANS,
    AttendanceBatch,
    AttendanceResult,
    BillableLines,
    CalendarFeedRead,
    ChangeBatch,
    ClosureCancellation,
    ClosureCancellationResult,
    MonthQuery,
    Planning,
    PlanningQuery,
    RepeatRequest,
    ReservationDecisionBatch,
    ReservationDecisionResult,
    ReservationDecisionResults,
    ReservationList,
    ReservationQuery,
    Roster,
    RosterQuery,
    SaveResult,
)
from .upstream import Upstream
from .workdays import paris_day

routes = web.RouteTableDef()
TAGS = ("reservations",)
STAFF_TAGS = ("reservations (staff)",)
KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


def _upstream(request: web.Request) -> Upstream:
    return Upstream(
        http=request.app[HTTP_CLIENT],
        gateway_url=request.app[SETTINGS].gateway_url,
        authorization=request.headers.get("Authorization", ""),
    )


@routes.get("/families/{family_id}/persons/{person_id}/planning")
@operation(
    "A person's planning: a row per unit, a cell per day, each cell's state and deadline",
    tags=TAGS,
    response=Planning,
    errors=(404,),
    query={
        "starts_on": {
            "type": "string",
            "format": "date",
            "description": "any day of the range, from 1900-01-01 to 9000-12-31; default: "
            "today's week in Paris (on Saturday and Sunday the following week), or today's month",
        },
        "days": {"type": "integer", "minimum": 1, "maximum": MAX_PLANNING_DAYS, "default": 7},
        "view": {"type": "string", "enum": ["week", "month"], "default": "week"},
    },
)
async def read_planning(request: web.Request) -> web.Response:
    """GET /families/{family_id}/persons/{person_id}/planning."""
    family_id = request.match_info["family_id"]
    require_family(request, family_id)
    query = read_query(request, PlanningQuery)
    now = request.app[CLOCK]()
    # Without a start, the town's week or month: near midnight in Paris, UTC is a day behind.
    days = grid.planning_range(query.starts_on, query.days, query.view, paris_day(now))
    person_id = request.match_info["person_id"]
    async with request.app[DATABASE].reads() as connection:
        result = await grid.planning(
            connection, family_id=family_id, person_id=person_id, days=days, now=now
        )
        if not result.activities:
            # An accepted registration of this family already proved the person is theirs;
            # without one, a person of no registration at all (or another family's) is 404.
            await calendar_feed.require_registered(
                connection, family_id=family_id, person_id=person_id
            )
    return json_response(result)


async def _save(
    request: web.Request,
    family_id: str,
    changes: list[Any],
    actor: dict[str, str],
    key: str | None = None,
) -> web.Response:
    key = request.headers.get("Idempotency-Key", key)
    if key is not None and not KEY.match(key):
        raise BadRequest("Idempotency-Key: 1 to 100 letters, digits or _ . : -")
    try:
        result = await reservations.save_changes(
            request.app[DATABASE],
            upstream=_upstream(request),
            clock=request.app[CLOCK],
            family_id=family_id,
            changes=changes,
            actor=actor,
            idempotency_key=key,
        )
    except reservations.Replay as replay:
        if not replay.response:
            raise Conflict("Cet enregistrement est déjà en cours ; patientez.") from None
        if _asked(replay.response) != [(c.person_id, c.opening_id, c.action) for c in changes]:
            # The key's first save was other changes: replaying its answer would say these
            # were made (they were not). A new save needs a new key, as families answers.
            raise KeyReused(
                "Cette clé d'idempotence a déjà servi pour une autre demande : "
                "utilisez une nouvelle clé pour une nouvelle opération."
            ) from None
        return web.json_response(replay.response, headers={"Idempotent-Replayed": "true"})
    return json_response(result)


class KeyReused(Problem):
    """The Idempotency-Key already served another save: a new save needs a new key."""

    status, slug, title = 422, "idempotency-key-reused", "Idempotency-Key reused"


def _asked(answer: dict[str, Any]) -> list[tuple[Any, Any, Any]]:
    """The changes a stored answer answered, in the order sent (one result per change)."""
    results = answer.get("results") or []
    return [(r.get("person_id"), r.get("opening_id"), r.get("action")) for r in results]


@routes.post("/families/{family_id}/reservations/changes")
@operation(
    "Save planning changes (ENREGISTRER): each change applied or refused on its own, with its "
    "reason; at most 200 per save (422 beyond); `Idempotency-Key` replays the first answer",
    tags=TAGS,
    request=ChangeBatch,
    response=SaveResult,
    errors=(404, 409, 422),
    headers={"Idempotency-Key": idempotency_key(KEY)},
    response_headers={"Idempotent-Replayed": IDEMPOTENT_REPLAYED},
)
async def save_changes(request: web.Request) -> web.Response:
    """POST /families/{family_id}/reservations/changes."""
    family_id = request.match_info["family_id"]
    identity = require_family(request, family_id, right="book")
    batch = await read_json(request, ChangeBatch)
    return await _save(request, family_id, batch.changes, identity.acted, batch.idempotency_key)


@routes.post("/families/{family_id}/reservations/repeat")
@operation(
    "Repeat a person's week (every week or one in two until a date), for several children "
    "at once; copy last week = week_of last week, until this week; `Idempotency-Key` replays "
    "the first answer",
    tags=TAGS,
    request=RepeatRequest,
    response=SaveResult,
    errors=(404, 409, 422),
    headers={"Idempotency-Key": idempotency_key(KEY)},
    response_headers={"Idempotent-Replayed": IDEMPOTENT_REPLAYED},
)
async def repeat_week(request: web.Request) -> web.Response:
    """POST /families/{family_id}/reservations/repeat."""
    family_id = request.match_info["family_id"]
    identity = require_family(request, family_id, right="book")
    data = await read_json(request, RepeatRequest)
    async with request.app[DATABASE].sessions() as session:
        changes = await repeat_changes(session, family_id=family_id, request=data)
    if not changes:
        return json_response(SaveResult(results=[], applied=0, refused=0))
    return await _save(request, family_id, changes, identity.acted)


@routes.get("/families/{family_id}/reservations")
@operation(
    "A family's reservations by period",
    tags=TAGS,
    response=ReservationList,
    errors=(404,),
    query={"person_id": "string", "state": "string", "starts_on": "string", "ends_on": "string"},
)
async def family_reservations(request: web.Request) -> web.Response:
    """GET /families/{family_id}/reservations."""
    family_id = request.match_info["family_id"]
    require_family(request, family_id)
    query = read_query(request, ReservationQuery)
    query = query.model_copy(update={"family_id": family_id})
    async with request.app[DATABASE].sessions() as session:
        page = await attendance.list_reservations(session, query=query)
    return json_response(page)


@routes.post("/families/{family_id}/persons/{person_id}/calendar-feed")
@operation(
    "A new private iCalendar link of the person's confirmed reservations (the previous one "
    "stops working); shown once",
    tags=TAGS,
    response=CalendarFeedRead,
    status=201,
    errors=(401, 404, 503),
)
async def create_feed(request: web.Request) -> web.Response:
    """POST /families/{family_id}/persons/{person_id}/calendar-feed."""
    family_id, person_id = request.match_info["family_id"], request.match_info["person_id"]
    identity = require_family(request, family_id)
    async with request.app[DATABASE].transaction() as session:
        token, created = await calendar_feed.new_feed(
            session,
            request.app[REDIS],
            family_id=family_id,
            person_id=person_id,
            account_id=identity.subject,
            authorized_at=identity.issued_at,
        )
    body = CalendarFeedRead(
        person_id=person_id, path=f"/api/bookings/calendar/{token}.ics", created_at=created
    )
    return json_response(body, status=201)


@routes.delete("/families/{family_id}/persons/{person_id}/calendar-feed")
@operation("Revoke the person's calendar link", tags=TAGS, status=204, errors=(404,))
async def revoke_feed(request: web.Request) -> web.Response:
    """DELETE /families/{family_id}/persons/{person_id}/calendar-feed."""
    family_id, person_id = request.match_info["family_id"], request.match_info["person_id"]
    require_family(request, family_id)
    async with request.app[DATABASE].transaction() as session:
        await calendar_feed.require_registered(session, family_id=family_id, person_id=person_id)
        await calendar_feed.revoke_feeds(
            session, family_id=family_id, person_id=person_id, now=request.app[CLOCK]()
        )
    return web.Response(status=204)


@routes.get("/calendar/{token}.ics")
@operation(
    "The iCalendar feed behind a private link (no sign-in: the link is the secret); 404 once "
    "renewed or revoked, or once its maker's account is disabled or its family archived",
    tags=TAGS,
    auth=False,
    errors=(404, 503),
)
async def read_feed(request: web.Request) -> web.Response:
    """GET /calendar/{token}.ics."""
    async with request.app[DATABASE].sessions() as session:
        body = await calendar_feed.feed_text(
            session, request.app[REDIS], token=request.match_info["token"], now=request.app[CLOCK]()
        )
    if body is None:
        raise NotFound("Lien de calendrier inconnu ou révoqué.")
    return web.Response(
        text=body,
        content_type="text/calendar",
        charset="utf-8",
        headers={"Cache-Control": "private, max-age=300"},
    )


# --- staff and municipal systems -------------------------------------------------------


@routes.get("/reservations")
@operation(
    "Reservations of every family by period (staff queue: state=requested; municipal reads: "
    "since=, changed at or after, oldest first; a full page gives next_cursor for cursor=)",
    tags=STAFF_TAGS,
    response=ReservationList,
    query={
        "activity_id": "string",
        "family_id": "string",
        "person_id": "string",
        "state": "string",
        "starts_on": "string",
        "ends_on": "string",
        "since": "string",
        "cursor": "string",
        "limit": "integer",
    },
)
async def list_reservations(request: web.Request) -> web.Response:
    """GET /reservations (staff, or bookings:read)."""
    require_scope(request, "bookings:read")
    query = read_query(request, ReservationQuery)
    async with request.app[DATABASE].sessions() as session:
        page = await attendance.list_reservations(session, query=query)
    return json_response(page)


@routes.post("/reservations/decisions")
@operation(
    "Accept or refuse pending reservations (manual validation); each stands alone",
    tags=STAFF_TAGS,
    request=ReservationDecisionBatch,
    response=ReservationDecisionResults,
)
async def decide_reservations(request: web.Request) -> web.Response:
    """POST /reservations/decisions."""
    identity = require_scope(request, "bookings:write")
    batch = await read_json(request, ReservationDecisionBatch)
    results = []
    for decision in batch.decisions:
        try:
            async with request.app[DATABASE].transaction() as session:
                row: Reservation | None = await reservations.decide_reservation(
                    session,
                    reservation_id=decision.reservation_id,
                    accept=decision.decision == "accept",
                    reason=decision.reason,
                    now=request.app[CLOCK](),
                    actor=identity.acted,
                )
                state = None if row is None else row.state
        except Problem as problem:
            results.append(
                ReservationDecisionResult(
                    reservation_id=decision.reservation_id, ok=False, detail=problem.detail
                )
            )
            continue
        expected = "confirmed" if decision.decision == "accept" else "refused"
        ok = state == expected
        results.append(
            ReservationDecisionResult(
                reservation_id=decision.reservation_id,
                ok=ok,
                state=state,
                detail=None if ok else "Demande inconnue ou déjà traitée.",
            )
        )
    return json_response(ReservationDecisionResults(results=results))


@routes.get("/roster")
@operation(
    "An activity's day or week: each opening's capacity, who is booked, the waiting list",
    tags=STAFF_TAGS,
    response=Roster,
    errors=(404,),
    query={
        "activity_id": "string",
        "day": "string",
        "days": {"type": "integer", "enum": list(ROSTER_SPANS), "default": 1},
        "group_id": "string",
    },
)
async def read_roster(request: web.Request) -> web.Response:
    """GET /roster (staff, or bookings:read)."""
    require_scope(request, "bookings:read")
    query = read_query(request, RosterQuery)
    async with request.app[DATABASE].sessions() as session:
        result = await attendance.roster(
            session,
            activity_id=query.activity_id,
            first=query.day,
            days=query.days,
            group_id=query.group_id,
        )
    return json_response(result)


@routes.post("/attendance")
@operation(
    "Take attendance (présent, absent justifié, absent non justifié) on confirmed reservations",
    tags=STAFF_TAGS,
    request=AttendanceBatch,
    response=AttendanceResult,
)
async def take_attendance(request: web.Request) -> web.Response:
    """POST /attendance (staff, or bookings:write)."""
    identity = require_scope(request, "bookings:write")
    batch = await read_json(request, AttendanceBatch)
    results = []
    async with request.app[DATABASE].transaction() as session:
        for mark in batch.marks:
            results.append(
                await attendance.mark_attendance(
                    session, mark=mark, now=request.app[CLOCK](), by=identity.subject
                )
            )
    return json_response(AttendanceResult(results=results))


@routes.post("/activities/{activity_id}/closure-cancellations")
@operation(
    "Close an activity on a day (strike, school closed): its openings closed and every "
    "reservation cancelled, each family told (reservation.cancelled)",
    tags=STAFF_TAGS,
    request=ClosureCancellation,
    response=ClosureCancellationResult,
    errors=(404,),
)
async def close_day(request: web.Request) -> web.Response:
    """POST /activities/{activity_id}/closure-cancellations (staff, or bookings:write)."""
    identity = require_scope(request, "bookings:write")
    data = await read_json(request, ClosureCancellation)
    async with request.app[DATABASE].transaction() as session:
        result = await attendance.cancel_for_closure(
            session,
            activity_id=request.match_info["activity_id"],
            day=data.day,
            reason=data.reason,
            now=request.app[CLOCK](),
            actor=identity.acted,
        )
    return json_response(result)


@routes.get("/billable-lines")
@operation(
    "The month's confirmed reservations and attendance, for billing (staff, or a service with "
    "billing:read or bookings:read)",
    tags=STAFF_TAGS,
    response=BillableLines,
    query={"month": "string"},
)
async def read_billable_lines(request: web.Request) -> web.Response:
    """GET /billable-lines?month=YYYY-MM."""
    identity = caller(request)
    allowed = identity.role == "staff" or (
        identity.role == "service"
        and (holds(identity, "billing:read") or holds(identity, "bookings:read"))
    )
    if not allowed:
        raise Forbidden("This operation needs the 'billing:read' or 'bookings:read' scope.")
    query = read_query(request, MonthQuery)
    async with request.app[DATABASE].sessions() as session:
        items = await attendance.billable_lines(session, month=query.month)
    return json_response(BillableLines(items=items))
