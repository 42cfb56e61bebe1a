"""Placeholder sign-in (`/connexion`) and sign-out (`/deconnexion`) pages.

Enough to drive the session flow end to end; the account pages of the auth work replace
them (this module is a placeholder: it only takes the paths nobody else serves).
"""

from __future__ import annotations

from aiohttp import web

from services.kit.problems import TooManyRequests

from ..clientip import client_ip
from ..keys import SESSION, SESSIONS
from ..rendering import render
from ..session import SignInRefused, current_identity, delete_session_cookie, set_session_cookie
from . import route_taken
from .home import local_path

PLACEHOLDER = True
MAX_FIELD_LENGTH = 1024
MISSING_FIELDS = "Saisissez votre adresse électronique et votre mot de passe."
# One message for an unknown address and a wrong password: no account enumeration.
WRONG_CREDENTIALS = "Adresse électronique ou mot de passe incorrect."


async def signin_page(request: web.Request) -> web.StreamResponse:
    """GET /connexion: the sign-in form (the dashboard when already signed in)."""
    if await current_identity(request) is not None:
        raise web.HTTPSeeOther("/")
    context = {"error": None, "email": "", "suite": request.query.get("suite", "")}
    return await render(request, "signin.html", context)


async def signin(request: web.Request) -> web.StreamResponse:
    """POST /connexion: open a session at auth, set the cookie, go on to the dashboard."""
    form = await request.post()
    email = str(form.get("email", ""))[:MAX_FIELD_LENGTH].strip()
    password = str(form.get("password", ""))[:MAX_FIELD_LENGTH]
    totp_code = str(form.get("totp_code", "")).strip()[:16] or None
    suite = local_path(str(form.get("suite", "")) or None)
    if not email or not password:
        return await render(
            request,
            "signin.html",
            {"error": MISSING_FIELDS, "email": email, "suite": suite},
            status=400,
        )
    try:
        signed_in = await request.app[SESSIONS].sign_in(
            email, password, totp_code, client_ip=client_ip(request)
        )
    except SignInRefused as refused:
        if refused.status == 429:
            raise TooManyRequests(
                "Too many sign-in attempts.",
                headers={"Retry-After": refused.retry_after or "60"},
            ) from None
        return await render(
            request,
            "signin.html",
            {"error": WRONG_CREDENTIALS, "email": email, "suite": suite},
            status=401,
        )
    previous = request.get(SESSION)
    if previous is not None:
        # A new session id at every sign-in: the old one is revoked, not reused.
        await request.app[SESSIONS].sign_out(previous.token)
    response = web.HTTPSeeOther(suite)
    set_session_cookie(request, response, signed_in.session_token)
    raise response


async def signout(request: web.Request) -> web.StreamResponse:
    """POST /deconnexion: revoke the session at auth and drop the cookie."""
    session = request.get(SESSION)
    if session is not None:
        await request.app[SESSIONS].sign_out(session.token)
    response = web.HTTPSeeOther("/connexion")
    delete_session_cookie(request, response)
    raise response


def register(app: web.Application) -> None:
    """Add the sign-in and sign-out pages nobody else serves."""
    for method, path, handler in (
        ("GET", "/connexion", signin_page),
        ("POST", "/connexion", signin),
        ("POST", "/deconnexion", signout),
    ):
        if not route_taken(app, method, path):
            app.router.add_route(method, path, handler)
