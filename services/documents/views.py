"""HTTP handlers: parse, check the caller, call the service, serialise."""

from __future__ import annotations

from aiohttp import web

from services.kit.bodies import json_response
from services.kit.identity import caller, require_family
from services.kit.keys import DATABASE
from services.kit.openapi import operation

from . import service
from .schemas import OrgDocumentList, OrgDocumentRead

routes = web.RouteTableDef()


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


@routes.get("/dashboard/{family_id}")
@operation("The family's dashboard tiles: expected documents, documentation", tags=("dashboard",))
async def dashboard(request: web.Request) -> web.Response:
    """GET /dashboard/{family_id} → {"documents": {"count": n}, "documentation": {"count": m}}."""
    require_family(request, request.match_info["family_id"])
    async with request.app[DATABASE].sessions() as session:
        expected = await service.count_expected_documents(session)
        published = len(await service.published_org_documents(session))
    return web.json_response(
        {"documents": {"count": expected}, "documentation": {"count": published}}
    )
