"""HTTP handlers: parse, check the caller, call the service, serialise."""

from __future__ import annotations

from aiohttp import web

from services.kit.bodies import json_response
from services.kit.identity import require_family
from services.kit.keys import DATABASE
from services.kit.openapi import operation

from . import service
from .schemas import InvoiceList, InvoiceRead

routes = web.RouteTableDef()
INVOICES_RIGHT = "invoices"


@routes.get("/families/{family_id}/invoices")
@operation(
    "A family's invoices (to pay by default, `?state=all` for the history)",
    tags=("invoices",),
    response=InvoiceList,
    errors=(404,),
    query={"state": "string"},
)
async def list_invoices(request: web.Request) -> web.Response:
    """GET /families/{family_id}/invoices."""
    family_id = request.match_info["family_id"]
    require_family(request, family_id, right=INVOICES_RIGHT)
    to_pay_only = request.query.get("state", "to_pay") != "all"
    async with request.app[DATABASE].sessions() as session:
        invoices = await service.list_invoices(
            session, family_id=family_id, to_pay_only=to_pay_only
        )
    return json_response(InvoiceList(items=[InvoiceRead.model_validate(i) for i in invoices]))


@routes.get("/dashboard/{family_id}")
@operation("The family's dashboard tile: invoices to pay", tags=("dashboard",), errors=(404,))
async def dashboard(request: web.Request) -> web.Response:
    """GET /dashboard/{family_id} → {"factures": {"count": n}}."""
    family_id = request.match_info["family_id"]
    require_family(request, family_id)
    async with request.app[DATABASE].sessions() as session:
        invoices = await service.list_invoices(session, family_id=family_id, to_pay_only=True)
    return web.json_response({"factures": {"count": len(invoices)}})
