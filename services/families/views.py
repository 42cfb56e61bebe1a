"""HTTP handlers: parse, check the caller, call the service, serialise."""

from __future__ import annotations

from aiohttp import web

from services.kit.bodies import json_response, read_json
from services.kit.identity import require_family, require_scope
from services.kit.keys import DATABASE
from services.kit.openapi import operation

from . import service
from .schemas import FamilyCreate, FamilyRead

routes = web.RouteTableDef()


@routes.post("/families")
@operation(
    "Create a family (staff, or a municipal system with families:write)",
    tags=("families",),
    request=FamilyCreate,
    response=FamilyRead,
    status=201,
)
async def create_family(request: web.Request) -> web.Response:
    """POST /families."""
    require_scope(request, "families:write")
    data = await read_json(request, FamilyCreate)
    async with request.app[DATABASE].transaction() as session:
        family = await service.create_family(session, data=data)
    return json_response(FamilyRead.model_validate(family), status=201)


@routes.get("/families/{family_id}")
@operation("Read a family", tags=("families",), response=FamilyRead, errors=(404,))
async def read_family(request: web.Request) -> web.Response:
    """GET /families/{family_id}: the caller's own family, or any family for staff."""
    family_id = request.match_info["family_id"]
    require_family(request, family_id)
    async with request.app[DATABASE].sessions() as session:
        family = await service.get_family(session, family_id=family_id)
    return json_response(FamilyRead.model_validate(family))


@routes.get("/dashboard/{family_id}")
@operation("The family's dashboard tile: its persons", tags=("dashboard",), errors=(404,))
async def dashboard(request: web.Request) -> web.Response:
    """GET /dashboard/{family_id} → {"famille": {"count": n}}."""
    family_id = request.match_info["family_id"]
    require_family(request, family_id)
    async with request.app[DATABASE].sessions() as session:
        count = await service.count_persons(session, family_id=family_id)
    return web.json_response({"famille": {"count": count}})
