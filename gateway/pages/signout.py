"""Sign-out (`POST /deconnexion`): the session is revoked at auth, the cookie dropped."""

from __future__ import annotations

from aiohttp import web

from ..keys import SESSION, SESSIONS
from ..session import delete_session_cookie


async def signout(request: web.Request) -> web.StreamResponse:
    """POST /deconnexion: revoke the session at auth and drop the cookie."""
    session = request.get(SESSION)
    if session is not None:
        await request.app[SESSIONS].sign_out(session.token)
    response = web.HTTPSeeOther("/connexion")
    delete_session_cookie(request, response)
    raise response


def register(app: web.Application) -> None:
    app.router.add_post("/deconnexion", signout)
