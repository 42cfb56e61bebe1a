"""Back office, « Comptes »: administrators invite staff members and change their role.

Auth does the work (POST /staff, PUT /accounts/{id}/staff-roles) and refuses anyone but an
administrator; the pages ask first, so that an agent gets the French 403 page, not a
half-done form. Auth's refusals become French sentences on the accounts page.
"""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from services.kit.problems import Forbidden, ServiceUnavailable

from ..rendering import render
from ..session import require_staff_page
from .account import MAX_FIELD, call_auth

ACCOUNTS = "/agents/comptes"
INVITE = "/agents/comptes/inviter-agent"
# The roles an administrator hands out, as auth names them → their French label.
STAFF_ROLES = {"agent": "agent", "administrator": "administrateur"}
ADMINISTRATORS_ONLY = "Seuls les administrateurs gèrent les comptes des agents."
ALREADY_EXISTS = "Un compte existe déjà avec cette adresse électronique."
INVALID_EMAIL = "L'adresse électronique n'est pas valide."
NO_ROLE = "Choisissez le rôle : agent ou administrateur."
# Auth's other answers, said on the form with what was typed kept: the administrator sends
# it again later (or signs in again) instead of landing on « Accès refusé ».
AUTH_UNAVAILABLE = (
    "Le service des comptes ne répond pas pour le moment : l'invitation n'est pas envoyée. "
    "Réessayez dans quelques minutes."
)
AUTH_REFUSED = (
    "Le service des comptes a refusé l'invitation : votre compte n'a pas (ou plus) le droit "
    "d'inviter du personnel. Reconnectez-vous, ou demandez-le à un autre administrateur."
)


async def _require_administrator(request: web.Request) -> str:
    """The administrator's account id; the French 403 page for anyone else."""
    identity = await require_staff_page(request)
    if "administrator" not in identity.staff_roles:
        raise Forbidden(ADMINISTRATORS_ONLY)
    return identity.subject


async def _invite_form(
    request: web.Request, values: dict[str, str], errors: list[str], status: int = 200
) -> web.Response:
    context = {"values": values, "errors": errors, "roles": STAFF_ROLES}
    return await render(request, "account/staff_member_invite.html", context, status=status)


async def invite_page(request: web.Request) -> web.StreamResponse:
    """GET /agents/comptes/inviter-agent: the form (e-mail, role)."""
    await _require_administrator(request)
    return await _invite_form(request, {"role": "agent"}, [])


async def invite(request: web.Request) -> web.StreamResponse:
    """POST /agents/comptes/inviter-agent: auth creates the account and sends the e-mail."""
    await _require_administrator(request)
    form = await request.post()
    values = {
        "email": str(form.get("email", ""))[:MAX_FIELD].strip(),
        "role": str(form.get("role", "")),
    }
    if values["role"] not in STAFF_ROLES:
        return await _invite_form(request, values, [NO_ROLE], status=422)
    try:
        answer = await call_auth(
            request,
            "POST",
            "/staff",
            json={"email": values["email"], "roles": [values["role"]]},
            bearer=True,
        )
    except ServiceUnavailable:
        return await _invite_form(request, values, [AUTH_UNAVAILABLE], status=503)
    if answer.status == 201:
        raise web.HTTPSeeOther(f"{ACCOUNTS}?" + urlencode({"fait": "agent-invite"}))
    if answer.status == 409:
        return await _invite_form(request, values, [ALREADY_EXISTS], status=409)
    if answer.status == 422:
        return await _invite_form(request, values, [INVALID_EMAIL], status=422)
    if answer.status in (401, 403):
        return await _invite_form(request, values, [AUTH_REFUSED], status=403)
    return await _invite_form(request, values, [AUTH_UNAVAILABLE], status=503)


async def role_page(request: web.Request) -> web.StreamResponse:
    """GET /agents/comptes/{account_id}/role/{role}: confirm before the role changes (the
    member's sessions end, and an administrator's rights are given or taken)."""
    await _require_administrator(request)
    account_id, role = request.match_info["account_id"], request.match_info["role"]
    if role not in STAFF_ROLES:
        raise web.HTTPNotFound()
    answer = await call_auth(request, "GET", f"/accounts/{account_id}", bearer=True)
    if answer.status != 200 or answer.body.get("kind") != "staff":
        raise web.HTTPSeeOther(f"{ACCOUNTS}?" + urlencode({"refus": "inconnu"}))
    context = {"account": answer.body, "role": role, "role_label": STAFF_ROLES[role]}
    return await render(request, "account/staff_role_confirm.html", context)


async def change_role(request: web.Request) -> web.StreamResponse:
    """POST /agents/comptes/{account_id}/role/{role}: auth replaces the member's roles."""
    await _require_administrator(request)
    account_id, role = request.match_info["account_id"], request.match_info["role"]
    if role not in STAFF_ROLES:
        raise web.HTTPNotFound()
    answer = await call_auth(
        request, "PUT", f"/accounts/{account_id}/staff-roles", json={"roles": [role]}, bearer=True
    )
    if answer.status == 200:
        raise web.HTTPSeeOther(f"{ACCOUNTS}?" + urlencode({"fait": "role-change"}))
    # Auth refuses one's own roles (403: an administrator would lock themselves out) and a
    # family account's (409); the list says which, in French.
    refusal = {403: "propre-role", 404: "inconnu", 409: "pas-agent"}.get(
        answer.status, "indisponible"
    )
    raise web.HTTPSeeOther(f"{ACCOUNTS}?" + urlencode({"refus": refusal}))


def register(app: web.Application) -> None:
    """Add the staff members' pages."""
    app.router.add_get(INVITE, invite_page)
    app.router.add_post(INVITE, invite)
    app.router.add_get(ACCOUNTS + "/{account_id}/role/{role}", role_page)
    app.router.add_post(ACCOUNTS + "/{account_id}/role/{role}", change_role)
