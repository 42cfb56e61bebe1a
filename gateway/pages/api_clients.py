"""Back office: the API clients of municipal systems (administrators only).

A client's secret is shown once, on the page that answers its creation (never in a URL,
never again): the auth service keeps only its hash.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from services.auth.schemas import GRANTED_ACCESS, SERVICE_SCOPES, UNOPENED_SCOPES
from services.kit.problems import Forbidden

from ..formats import formats_of
from ..i18n import translator_of
from ..rendering import render
from ..session import require_staff_page
from .account import call_auth

PAGE = "/agents/clients-api"
NAME_MAX = 120
SERVICES = ("families", "bookings", "billing", "documents", "notifications", "auth")
ACCESS_LABELS = {"read": "lecture", "write": "écriture"}
SERVICE_LABELS = {
    "families": "Familles",
    "bookings": "Inscriptions et réservations",
    "billing": "Facturation",
    "documents": "Documents",
    "notifications": "Notifications et messages",
    "auth": "Comptes",
}
NOTICES = {"revoque": "Le client est révoqué : il n'obtient plus de jeton."}
ADMINISTRATORS_ONLY = "Les clients API sont réservés aux administrateurs."
NOT_GRANTABLE = "Le droit « {scope} » n'ouvre aucune opération : il ne peut pas être donné."


async def _require_administrator(request: web.Request) -> None:
    identity = await require_staff_page(request)
    if "administrator" not in identity.staff_roles:
        raise Forbidden(ADMINISTRATORS_ONLY)


async def _page(
    request: web.Request,
    *,
    created: dict[str, Any] | None = None,
    values: dict[str, Any] | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> web.Response:
    answer = await call_auth(request, "GET", "/api-clients", bearer=True)
    if answer.status != 200:
        raise Forbidden(ADMINISTRATORS_ONLY)
    context = {
        "clients": [
            {**client, "created_shown": formats_of(request).minute(client["created_at"])}
            for client in answer.body.get("items", [])
        ],
        # Only the scopes some operation checks are offered (a right that opens nothing
        # would mislead): a service with none is not listed.
        "services": [
            (name, SERVICE_LABELS[name], GRANTED_ACCESS[name])
            for name in SERVICES
            if GRANTED_ACCESS[name]
        ],
        "access_labels": ACCESS_LABELS,
        "created": created,
        "values": values or {"name": "", "scopes": []},
        "errors": errors or [],
        "notice": NOTICES.get(request.query.get("fait", "")),
        "token_url": f"{request.scheme}://{request.host}/api/auth/oauth/token",
    }
    return await render(request, "account/api_clients.html", context, status=status)


async def clients_page(request: web.Request) -> web.StreamResponse:
    """GET /agents/clients-api: the clients, their scopes, and the form for a new one."""
    await _require_administrator(request)
    return await _page(request)


async def create_client(request: web.Request) -> web.StreamResponse:
    """POST /agents/clients-api: a new client; the answer shows its secret this once."""
    await _require_administrator(request)
    form = await request.post()
    name = str(form.get("name", "")).strip()[:NAME_MAX]
    asked = {str(s) for s in form.getall("scopes", [])}
    scopes = sorted(asked & SERVICE_SCOPES)
    # The page does not offer a scope that opens nothing; a form sending one anyway (an
    # old page, a forged form) is refused with the reason, not granted less than it says.
    errors = [
        translator_of(request)(NOT_GRANTABLE, scope=scope)
        for scope in sorted(asked & UNOPENED_SCOPES)
    ]
    if not name:
        errors.append("Donnez un nom au système (par exemple « Logiciel comptable »).")
    if not scopes and not errors:
        errors.append("Cochez au moins un droit.")
    values = {"name": name, "scopes": scopes}
    if errors:
        return await _page(request, values=values, errors=errors, status=422)
    answer = await call_auth(
        request, "POST", "/api-clients", json={"name": name, "scopes": scopes}, bearer=True
    )
    if answer.status != 201:
        if answer.status == 403:
            raise Forbidden(ADMINISTRATORS_ONLY)
        errors = ["Le client n'a pas pu être créé ; vérifiez le nom et les droits."]
        return await _page(request, values=values, errors=errors, status=answer.status)
    return await _page(request, created=answer.body, status=201)


async def revoke_client(request: web.Request) -> web.StreamResponse:
    """POST /agents/clients-api/{client_id}/revoquer."""
    await _require_administrator(request)
    client_id = request.match_info["client_id"]
    answer = await call_auth(request, "DELETE", f"/api-clients/{client_id}", bearer=True)
    if answer.status == 404:
        raise web.HTTPNotFound()
    if answer.status != 204:
        raise Forbidden(ADMINISTRATORS_ONLY)
    raise web.HTTPSeeOther(PAGE + "?" + urlencode({"fait": "revoque"}))


def register(app: web.Application) -> None:
    """Add the API clients pages."""
    app.router.add_get(PAGE, clients_page)
    app.router.add_post(PAGE, create_client)
    app.router.add_post(PAGE + "/{client_id}/revoquer", revoke_client)
