"""HTTP handlers of the catalogue: staff pages and municipal systems write, everyone reads."""

from __future__ import annotations

from aiohttp import web

from services.kit.bodies import json_response, read_json, read_query
from services.kit.identity import Identity, caller, holds, require_scope
from services.kit.keys import DATABASE
from services.kit.openapi import operation
from services.kit.problems import Forbidden

from . import catalogue, openings, removals
from .clock import CLOCK
from .models import Opening
from .schemas import (
    ActivityCreate,
    ActivityList,
    ActivityRead,
    ActivityUpdate,
    Catalogue,
    CatalogueEntry,
    CatalogueGroup,
    CataloguePeriod,
    ClosureCreate,
    ClosureList,
    ClosureRead,
    ClosureRemoval,
    GroupCreate,
    GroupRead,
    GroupUpdate,
    OpeningList,
    OpeningQuery,
    OpeningRead,
    OpeningsBulkCreate,
    OpeningsBulkResult,
    OpeningUpdate,
    PeriodCreate,
    PeriodList,
    PeriodRead,
    PeriodUpdate,
    Removal,
    UnitCreate,
    UnitRead,
    UnitUpdate,
)

routes = web.RouteTableDef()
READ, WRITE = "bookings:read", "bookings:write"
TAGS = ("catalogue",)


def require_reader(request: web.Request) -> Identity:
    """Families and staff read the catalogue; a municipal system needs `bookings:read`."""
    identity = caller(request)
    if identity.role == "service" and not holds(identity, READ):
        raise Forbidden(f"This operation needs the '{READ}' scope.")
    return identity


def _period_read(request: web.Request, period: object) -> PeriodRead:
    read = PeriodRead.model_validate(period)
    read.registration_open = catalogue.window_open(period, request.app[CLOCK]())  # type: ignore[arg-type]
    return read


def _opening_read(row: tuple[Opening, str, str]) -> OpeningRead:
    opening, group_name, unit_code = row
    return OpeningRead(
        id=opening.id,
        activity_id=opening.activity_id,
        period_id=opening.period_id,
        group_id=opening.group_id,
        group_name=group_name,
        unit_id=opening.unit_id,
        unit_code=unit_code,
        day=opening.day,
        capacity=opening.capacity,
        booked=opening.booked,
        closed=opening.closed,
    )


@routes.get("/activities")
@operation("List the activities of the catalogue", tags=TAGS, response=ActivityList)
async def list_activities(request: web.Request) -> web.Response:
    """GET /activities."""
    require_reader(request)
    async with request.app[DATABASE].sessions() as session:
        activities = await catalogue.list_activities(session)
    return json_response(ActivityList(items=[ActivityRead.model_validate(a) for a in activities]))


@routes.post("/activities")
@operation(
    "Add an activity with its rules, groups and units (staff, or bookings:write)",
    tags=TAGS,
    request=ActivityCreate,
    response=ActivityRead,
    status=201,
    errors=(409,),
)
async def create_activity(request: web.Request) -> web.Response:
    """POST /activities."""
    require_scope(request, WRITE)
    data = await read_json(request, ActivityCreate)
    async with request.app[DATABASE].transaction() as session:
        activity = await catalogue.create_activity(session, data=data)
    return json_response(ActivityRead.model_validate(activity), status=201)


@routes.get("/activities/{activity_id}")
@operation("Read an activity", tags=TAGS, response=ActivityRead, errors=(404,))
async def read_activity(request: web.Request) -> web.Response:
    """GET /activities/{activity_id}."""
    require_reader(request)
    async with request.app[DATABASE].sessions() as session:
        activity = await catalogue.get_activity(
            session, activity_id=request.match_info["activity_id"]
        )
    return json_response(ActivityRead.model_validate(activity))


@routes.patch("/activities/{activity_id}")
@operation(
    "Change an activity's name, description or booking rules",
    tags=TAGS,
    request=ActivityUpdate,
    response=ActivityRead,
    errors=(404, 409),
)
async def update_activity(request: web.Request) -> web.Response:
    """PATCH /activities/{activity_id}."""
    require_scope(request, WRITE)
    data = await read_json(request, ActivityUpdate)
    async with request.app[DATABASE].transaction() as session:
        activity = await catalogue.update_activity(
            session, activity_id=request.match_info["activity_id"], data=data
        )
    return json_response(ActivityRead.model_validate(activity))


@routes.post("/activities/{activity_id}/groups")
@operation(
    "Add an age group",
    tags=TAGS,
    request=GroupCreate,
    response=GroupRead,
    status=201,
    errors=(404, 409),
)
async def add_group(request: web.Request) -> web.Response:
    """POST /activities/{activity_id}/groups."""
    require_scope(request, WRITE)
    data = await read_json(request, GroupCreate)
    async with request.app[DATABASE].transaction() as session:
        group = await catalogue.add_group(
            session, activity_id=request.match_info["activity_id"], data=data
        )
    return json_response(GroupRead.model_validate(group), status=201)


@routes.patch("/groups/{group_id}")
@operation(
    "Change a group's name, ages or registration capacity (never below the places taken)",
    tags=TAGS,
    request=GroupUpdate,
    response=GroupRead,
    errors=(404, 409),
)
async def update_group(request: web.Request) -> web.Response:
    """PATCH /groups/{group_id}."""
    require_scope(request, WRITE)
    data = await read_json(request, GroupUpdate)
    async with request.app[DATABASE].transaction() as session:
        group = await catalogue.update_group(
            session, group_id=request.match_info["group_id"], data=data
        )
    return json_response(GroupRead.model_validate(group))


@routes.post("/activities/{activity_id}/units")
@operation(
    "Add a unit", tags=TAGS, request=UnitCreate, response=UnitRead, status=201, errors=(404, 409)
)
async def add_unit(request: web.Request) -> web.Response:
    """POST /activities/{activity_id}/units."""
    require_scope(request, WRITE)
    data = await read_json(request, UnitCreate)
    async with request.app[DATABASE].transaction() as session:
        unit = await catalogue.add_unit(
            session, activity_id=request.match_info["activity_id"], data=data
        )
    return json_response(UnitRead.model_validate(unit), status=201)


@routes.patch("/units/{unit_id}")
@operation(
    "Change a unit's label, times or incompatibilities (excludes: both directions)",
    tags=TAGS,
    request=UnitUpdate,
    response=UnitRead,
    errors=(404, 409),
)
async def update_unit(request: web.Request) -> web.Response:
    """PATCH /units/{unit_id}."""
    require_scope(request, WRITE)
    data = await read_json(request, UnitUpdate)
    async with request.app[DATABASE].transaction() as session:
        unit = await catalogue.update_unit(
            session, unit_id=request.match_info["unit_id"], data=data
        )
    return json_response(UnitRead.model_validate(unit))


@routes.get("/activities/{activity_id}/periods")
@operation("List an activity's periods", tags=TAGS, response=PeriodList, errors=(404,))
async def list_periods(request: web.Request) -> web.Response:
    """GET /activities/{activity_id}/periods."""
    require_reader(request)
    async with request.app[DATABASE].sessions() as session:
        periods = await catalogue.list_periods(
            session, activity_id=request.match_info["activity_id"]
        )
    return json_response(PeriodList(items=[_period_read(request, p) for p in periods]))


@routes.post("/activities/{activity_id}/periods")
@operation(
    "Add a period with its registration window (Paris time when no zone is given)",
    tags=TAGS,
    request=PeriodCreate,
    response=PeriodRead,
    status=201,
    errors=(404, 409),
)
async def create_period(request: web.Request) -> web.Response:
    """POST /activities/{activity_id}/periods."""
    require_scope(request, WRITE)
    data = await read_json(request, PeriodCreate)
    async with request.app[DATABASE].transaction() as session:
        period = await catalogue.create_period(
            session, activity_id=request.match_info["activity_id"], data=data
        )
    return json_response(_period_read(request, period), status=201)


@routes.patch("/periods/{period_id}")
@operation(
    "Change a period's name, dates (never leaving an opening outside) or registration window",
    tags=TAGS,
    request=PeriodUpdate,
    response=PeriodRead,
    errors=(404, 409),
)
async def update_period(request: web.Request) -> web.Response:
    """PATCH /periods/{period_id}."""
    require_scope(request, WRITE)
    data = await read_json(request, PeriodUpdate)
    async with request.app[DATABASE].transaction() as session:
        period = await catalogue.update_period(
            session, period_id=request.match_info["period_id"], data=data
        )
    return json_response(_period_read(request, period))


@routes.get("/activities/{activity_id}/closures")
@operation("List an activity's closed days", tags=TAGS, response=ClosureList, errors=(404,))
async def list_closures(request: web.Request) -> web.Response:
    """GET /activities/{activity_id}/closures."""
    require_reader(request)
    async with request.app[DATABASE].sessions() as session:
        closures = await catalogue.list_closures(
            session, activity_id=request.match_info["activity_id"]
        )
    return json_response(ClosureList(items=[ClosureRead.model_validate(c) for c in closures]))


@routes.post("/activities/{activity_id}/closures")
@operation(
    "Close days of an activity (before making openings)",
    tags=TAGS,
    request=ClosureCreate,
    response=ClosureList,
    status=201,
    errors=(404, 409),
)
async def add_closures(request: web.Request) -> web.Response:
    """POST /activities/{activity_id}/closures."""
    require_scope(request, WRITE)
    data = await read_json(request, ClosureCreate)
    async with request.app[DATABASE].transaction() as session:
        added = await catalogue.add_closures(
            session, activity_id=request.match_info["activity_id"], data=data
        )
    return json_response(ClosureList(items=[ClosureRead.model_validate(c) for c in added]), 201)


@routes.delete("/groups/{group_id}")
@operation(
    "Delete a group no registration or reservation points at (its unbooked openings too)",
    tags=TAGS,
    response=Removal,
    errors=(404, 409),
)
async def delete_group(request: web.Request) -> web.Response:
    """DELETE /groups/{group_id}."""
    require_scope(request, WRITE)
    async with request.app[DATABASE].transaction() as session:
        removed = await removals.delete_group(session, group_id=request.match_info["group_id"])
    return json_response(removed)


@routes.delete("/units/{unit_id}")
@operation(
    "Delete a unit no reservation points at (its unbooked openings too)",
    tags=TAGS,
    response=Removal,
    errors=(404, 409),
)
async def delete_unit(request: web.Request) -> web.Response:
    """DELETE /units/{unit_id}."""
    require_scope(request, WRITE)
    async with request.app[DATABASE].transaction() as session:
        removed = await removals.delete_unit(session, unit_id=request.match_info["unit_id"])
    return json_response(removed)


@routes.delete("/periods/{period_id}")
@operation(
    "Delete a period no registration or reservation points at (its unbooked openings too)",
    tags=TAGS,
    response=Removal,
    errors=(404, 409),
)
async def delete_period(request: web.Request) -> web.Response:
    """DELETE /periods/{period_id}."""
    require_scope(request, WRITE)
    async with request.app[DATABASE].transaction() as session:
        removed = await removals.delete_period(session, period_id=request.match_info["period_id"])
    return json_response(removed)


@routes.delete("/closures/{closure_id}")
@operation(
    "Open a closed day again (openings closed that day stay closed: counted in the answer)",
    tags=TAGS,
    response=ClosureRemoval,
    errors=(404,),
)
async def delete_closure(request: web.Request) -> web.Response:
    """DELETE /closures/{closure_id}."""
    require_scope(request, WRITE)
    async with request.app[DATABASE].transaction() as session:
        removed = await removals.delete_closure(
            session, closure_id=request.match_info["closure_id"]
        )
    return json_response(removed)


@routes.post("/periods/{period_id}/openings")
@operation(
    "Make openings in bulk: chosen weekdays minus French public holidays and closures",
    tags=TAGS,
    request=OpeningsBulkCreate,
    response=OpeningsBulkResult,
    status=201,
    errors=(404, 409),
)
async def create_openings(request: web.Request) -> web.Response:
    """POST /periods/{period_id}/openings."""
    require_scope(request, WRITE)
    data = await read_json(request, OpeningsBulkCreate)
    async with request.app[DATABASE].transaction() as session:
        result = await openings.create_openings(
            session, period_id=request.match_info["period_id"], data=data
        )
    return json_response(result, status=201)


@routes.get("/openings")
@operation(
    "List openings (at most 5,000, by day)",
    tags=TAGS,
    response=OpeningList,
    query={
        "activity_id": "string",
        "period_id": "string",
        "group_id": "string",
        "starts_on": "string",
        "ends_on": "string",
    },
)
async def list_openings(request: web.Request) -> web.Response:
    """GET /openings."""
    require_reader(request)
    query = read_query(request, OpeningQuery)
    async with request.app[DATABASE].sessions() as session:
        rows = await openings.list_openings(session, query=query)
    return json_response(OpeningList(items=[_opening_read(r) for r in rows]))


@routes.get("/openings/{opening_id}")
@operation("Read one opening", tags=TAGS, response=OpeningRead, errors=(404,))
async def read_opening(request: web.Request) -> web.Response:
    """GET /openings/{opening_id}."""
    require_reader(request)
    async with request.app[DATABASE].sessions() as session:
        row = await openings.get_opening(session, opening_id=request.match_info["opening_id"])
    return json_response(_opening_read(row))


@routes.patch("/openings/{opening_id}")
@operation(
    "Change one opening's capacity, or close it",
    tags=TAGS,
    request=OpeningUpdate,
    response=OpeningRead,
    errors=(404, 409),
)
async def update_opening(request: web.Request) -> web.Response:
    """PATCH /openings/{opening_id}."""
    require_scope(request, WRITE)
    data = await read_json(request, OpeningUpdate)
    async with request.app[DATABASE].transaction() as session:
        row = await openings.update_opening(
            session, opening_id=request.match_info["opening_id"], data=data
        )
    return json_response(_opening_read(row))


@routes.get("/catalogue")
@operation(
    "What families may register to now: activities with a registration window open",
    tags=("registrations",),
    response=Catalogue,
)
async def open_catalogue(request: web.Request) -> web.Response:
    """GET /catalogue."""
    require_reader(request)
    async with request.app[DATABASE].sessions() as session:
        entries = await catalogue.open_catalogue(session, now=request.app[CLOCK]())
    return json_response(
        Catalogue(
            items=[
                CatalogueEntry(
                    id=activity.id,
                    name=activity.name,
                    description=activity.description,
                    validation=activity.validation,
                    documents_required=activity.documents_required,
                    groups=[
                        CatalogueGroup.model_validate(g, from_attributes=True)
                        for g in activity.groups
                    ],
                    periods=[
                        CataloguePeriod.model_validate(p, from_attributes=True) for p in periods
                    ],
                )
                for activity, periods in entries
            ]
        )
    )
