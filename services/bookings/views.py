"""HTTP handlers: parse, check the caller, call the service, serialise.

The catalogue's and the registrations' handlers live in `views_catalogue.py` and
`views_registrations.py`; this module adds the dashboard tile and gathers every route.
"""

from __future__ import annotations

from aiohttp import web

from services.kit.identity import require_family
from services.kit.keys import DATABASE
from services.kit.openapi import operation

from . import service
from .views_catalogue import routes as catalogue_routes
from .views_export import routes as export_routes
from .views_registrations import routes as registration_routes
from .views_reservations import routes as reservation_routes

dashboard_routes = web.RouteTableDef()


@dashboard_routes.get("/dashboard/{family_id}")
@operation(
    "The family's dashboard tile: its registration requests waiting for staff",
    tags=("dashboard",),
    errors=(404,),
)
async def dashboard(request: web.Request) -> web.Response:
    """GET /dashboard/{family_id} → {"inscriptions": {"count": pending, "pending", "accepted"}}."""
    family_id = request.match_info["family_id"]
    require_family(request, family_id)
    async with request.app[DATABASE].sessions() as session:
        tile = await service.dashboard_tile(session, family_id=family_id)
    return web.json_response({"inscriptions": tile})


routes: list[web.AbstractRouteDef] = [
    *catalogue_routes,
    *registration_routes,
    *reservation_routes,
    *dashboard_routes,
    *export_routes,
]
