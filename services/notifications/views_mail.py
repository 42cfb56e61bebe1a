"""HTTP handlers of the e-mail log (staff) and of a family's e-mail preferences."""

from __future__ import annotations

from aiohttp import web

from services.kit.bodies import json_response, read_json, read_query
from services.kit.identity import require_staff
from services.kit.keys import DATABASE
from services.kit.openapi import operation

from . import outgoing
from .events import OPTIONAL_CATEGORIES
from .schemas import (
    EmailPage,
    EmailQuery,
    EmailRead,
    PreferenceRead,
    PreferencesRead,
    PreferencesUpdate,
)
from .views import PAGE_QUERY, family_of

routes = web.RouteTableDef()


@routes.get("/emails")
@operation(
    "The e-mail log: pending, sent, failed (staff)",
    tags=("emails",),
    response=EmailPage,
    errors=(403, 422),
    query={**PAGE_QUERY, "state": "string"},
)
async def read_emails(request: web.Request) -> web.Response:
    """GET /emails?state=failed: what staff watch; a failed e-mail can be sent again."""
    require_staff(request)
    query = read_query(request, EmailQuery)
    async with request.app[DATABASE].sessions() as session:
        rows, total = await outgoing.list_emails(
            session, state=query.state, page=query.page, page_size=query.page_size
        )
    return json_response(
        EmailPage(
            items=[EmailRead.model_validate(r) for r in rows],
            page=query.page,
            page_size=query.page_size,
            total=total,
        )
    )


@routes.post("/emails/{email_id}/resend")
@operation(
    "Send a failed e-mail again (staff)",
    tags=("emails",),
    response=EmailRead,
    errors=(403, 404, 409),
)
async def resend_email(request: web.Request) -> web.Response:
    """POST /emails/{id}/resend: pending again; the relay enqueues it within a second."""
    require_staff(request)
    async with request.app[DATABASE].transaction() as session:
        row = await outgoing.resend(session, request.match_info["email_id"])
        body = EmailRead.model_validate(row)
    return json_response(body)


def _preferences(choices: dict[str, bool]) -> PreferencesRead:
    return PreferencesRead(
        categories=[
            PreferenceRead(category=c, label=OPTIONAL_CATEGORIES[c], enabled=enabled)
            for c, enabled in choices.items()
        ]
    )


@routes.get("/families/{family_id}/email-preferences")
@operation(
    "The optional e-mails a family receives",
    tags=("emails",),
    response=PreferencesRead,
    errors=(404,),
)
async def read_preferences(request: web.Request) -> web.Response:
    """GET: every optional category and the family's choice (security and decisions always go)."""
    family_id = family_of(request)
    async with request.app[DATABASE].sessions() as session:
        choices = await outgoing.preferences(session, family_id)
    return json_response(_preferences(choices))


@routes.put("/families/{family_id}/email-preferences")
@operation(
    "Choose the optional e-mails a family receives",
    tags=("emails",),
    request=PreferencesUpdate,
    response=PreferencesRead,
    errors=(404, 422),
)
async def write_preferences(request: web.Request) -> web.Response:
    """PUT `{"categories": {"factures": false}}`; a mandatory category cannot be turned off."""
    family_id = family_of(request)
    data = await read_json(request, PreferencesUpdate)
    async with request.app[DATABASE].transaction() as session:
        choices = await outgoing.set_preferences(session, family_id, data.categories)
    return json_response(_preferences(choices))
