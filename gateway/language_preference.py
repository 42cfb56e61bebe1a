"""A signed-in visitor's language switch becomes their account's language (for their e-mails).

The pages' language lives in the `lang` cookie; the e-mails are written by the notifications
service, which knows an account's language only from auth's events. So when a signed-in
visitor switches, the gateway tells auth (`PATCH /accounts/me`), which records it and emits
`account.language_changed`. The same at sign-in, for a language chosen on this browser while
signed out (the `lang` cookie): otherwise the account would keep the language of its last
switch while signed in.
"""

from __future__ import annotations

import structlog
from aiohttp import web

from services.kit.problems import Problem

from .calls import call_service
from .keys import SESSION

log = structlog.get_logger(__name__)

# A switch that comes from another site's link changes the page only, not the account: the
# session cookie is SameSite=Lax, so a top-level GET from elsewhere would otherwise carry it.
OWN_NAVIGATION = ("same-origin", "none")


async def remember_account_language(request: web.Request, language: str) -> None:
    """Record `language` on the signed-in visitor's account (a switch)."""
    session = request.get(SESSION)
    if session is None or session.jwt is None:
        return
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in OWN_NAVIGATION:
        return
    await _tell_auth(request, language, bearer=None)


async def remember_language_at_sign_in(request: web.Request, jwt: str, chosen: str | None) -> None:
    """Record the language chosen on this browser (`chosen`, the `lang` cookie) on the account
    that has just signed in; nothing when the visitor never chose one."""
    if chosen in ("fr", "en"):
        await _tell_auth(request, chosen, bearer=jwt)


async def _tell_auth(request: web.Request, language: str, *, bearer: str | None) -> None:
    """PATCH /accounts/me; a failure only costs the e-mails' language, never the page."""
    try:
        reply = await call_service(
            request, "auth", "PATCH", "/accounts/me", json={"language": language}, bearer=bearer
        )
    except Problem as problem:
        log.warning("account_language_not_recorded", status=problem.status)
        return
    if not reply.ok:
        log.warning("account_language_not_recorded", status=reply.status)
