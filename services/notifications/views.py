"""HTTP handlers: parse, check the caller, call the service, serialise."""

from __future__ import annotations

import re

from aiohttp import web

from services.kit.bodies import json_response, read_query
from services.kit.identity import caller, require_family, require_staff
from services.kit.keys import DATABASE
from services.kit.openapi import operation
from services.kit.problems import NotFound

from . import contact, digest, news, service
from .schemas import (
    DashboardRead,
    DeadLetterPage,
    DeadLetterRead,
    JournalPage,
    JournalQuery,
    NewsItem,
    PageQuery,
    StaffWaitingRead,
    Tile,
)

routes = web.RouteTableDef()
PAGE_QUERY = {"page": "integer", "page_size": "integer"}
# Family ids are UUIDs; anything else (a NUL byte, 300 characters) cannot exist.
FAMILY_ID = re.compile(r"[A-Za-z0-9-]{1,36}")


def family_of(request: web.Request) -> str:
    """The path's family id once the caller may see it (401/404 otherwise)."""
    family_id = request.match_info["family_id"]
    require_family(request, family_id)
    if not FAMILY_ID.fullmatch(family_id):
        raise NotFound("No such family.")
    return family_id


@routes.get("/journal/{family_id}")
@operation(
    "A family's journal (Historique de mes actions), newest first",
    tags=("journal",),
    response=JournalPage,
    errors=(404, 422),
    query={**PAGE_QUERY, "since": "string", "until": "string"},
)
async def read_journal(request: web.Request) -> web.Response:
    """GET /journal/{family_id}: the caller's own family, or any family for staff."""
    family_id = family_of(request)
    query = read_query(request, JournalQuery)
    async with request.app[DATABASE].sessions() as session:
        entries, total = await service.list_journal(
            session,
            family_id=family_id,
            page=query.page,
            page_size=query.page_size,
            since=query.since,
            until=query.until,
        )
        members = await service.family_accounts(session, family_id)
        # Which agent acted: told to staff only, never to a family (a role is all it gets).
        staff = caller(request).role == "staff"
        agents = await service.agents_of(session, entries) if staff else None
    page = JournalPage(
        items=[service.journal_read(e, members, agents) for e in entries],
        page=query.page,
        page_size=query.page_size,
        total=total,
    )
    return json_response(page)


@routes.get("/dashboard/{family_id}")
@operation(
    "The tiles of Mon tableau de bord this service fills",
    tags=("dashboard",),
    response=DashboardRead,
    errors=(404,),
)
async def read_dashboard(request: web.Request) -> web.Response:
    """GET /dashboard/{family_id}: journal and message counts, and the current news."""
    family_id = family_of(request)
    async with request.app[DATABASE].sessions() as session:
        count = await service.count_journal(session, family_id=family_id)
        messages = await contact.count_family_messages(session, family_id)
        current = await news.current_for_family(session, family_id)
    return json_response(
        DashboardRead(
            historique=Tile(count=count),
            contact=Tile(count=messages),
            news=[NewsItem(title=n.title, text=n.text) for n in current],
        )
    )


@routes.get("/staff/waiting")
@operation(
    "What waits for staff: undecided requests per kind, unanswered contact threads (staff)",
    tags=("dashboard",),
    response=StaffWaitingRead,
    errors=(401, 403),
)
async def read_staff_waiting(request: web.Request) -> web.Response:
    """GET /staff/waiting: the counts the staff home page shows on its tiles."""
    require_staff(request)
    async with request.app[DATABASE].sessions() as session:
        requests = await digest.waiting_by_kind(session)
        messages = await contact.count_unanswered(session)
    counts = {row.kind: row.count for row in requests if row.kind in StaffWaitingRead.model_fields}
    return json_response(StaffWaitingRead(**counts, messages=messages))


@routes.get("/dead-letters")
@operation(
    "Messages the consumer could not handle (staff)",
    tags=("operations",),
    response=DeadLetterPage,
    errors=(422,),
    query=PAGE_QUERY,
)
async def read_dead_letters(request: web.Request) -> web.Response:
    """GET /dead-letters: what staff should look at when an event was refused."""
    require_staff(request)
    query = read_query(request, PageQuery)
    async with request.app[DATABASE].sessions() as session:
        letters, total = await service.list_dead_letters(
            session, page=query.page, page_size=query.page_size
        )
    page = DeadLetterPage(
        items=[DeadLetterRead.model_validate(d) for d in letters],
        page=query.page,
        page_size=query.page_size,
        total=total,
    )
    return json_response(page)
