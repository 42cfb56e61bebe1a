"""HTTP handlers: parse, check the caller, call the service, serialise."""

from __future__ import annotations

from aiohttp import web

from services.kit.bodies import json_response, read_json
from services.kit.identity import caller, require_family, require_scope
from services.kit.keys import DATABASE
from services.kit.openapi import operation

from . import service
from .schemas import ActivityCreate, ActivityList, ActivityRead

routes = web.RouteTableDef()


@routes.get("/activities")
@operation("List the activities of the catalogue", tags=("catalogue",), response=ActivityList)
async def list_activities(request: web.Request) -> web.Response:
    """GET /activities: any signed-in caller may read the catalogue."""
    caller(request)
    async with request.app[DATABASE].sessions() as session:
        activities = await service.list_activities(session)
    return json_response(ActivityList(items=[ActivityRead.model_validate(a) for a in activities]))


@routes.post("/activities")
@operation(
    "Add an activity (staff, or a municipal system with bookings:write)",
    tags=("catalogue",),
    request=ActivityCreate,
    response=ActivityRead,
    status=201,
    errors=(409,),
)
async def create_activity(request: web.Request) -> web.Response:
    """POST /activities."""
    require_scope(request, "bookings:write")
    data = await read_json(request, ActivityCreate)
    async with request.app[DATABASE].transaction() as session:
        activity = await service.create_activity(session, data=data)
    return json_response(ActivityRead.model_validate(activity), status=201)


@routes.get("/dashboard/{family_id}")
@operation("The family's dashboard tile: its registrations", tags=("dashboard",), errors=(404,))
async def dashboard(request: web.Request) -> web.Response:
    """GET /dashboard/{family_id} → {"inscriptions": {"count": n}}."""
    family_id = request.match_info["family_id"]
    require_family(request, family_id)
    async with request.app[DATABASE].sessions() as session:
        count = await service.count_registrations(session, family_id=family_id)
    return web.json_response({"inscriptions": {"count": count}})
