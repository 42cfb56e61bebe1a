"""A signed-in visitor's language switch becomes their account's language (for their e-mails).

The pages' language lives in the `lang` cookie; the e-mails are written by the notifications
service, which knows an account's language only from auth's events. So when a signed-in
visitor switches, the gateway tells auth (`PATCH /accounts/me`), which records it and emits
`account.language_changed`.
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
    """Record `language` on the signed-in visitor's account; a failure only costs the e-mails'
    language, never the page."""
    session = request.get(SESSION)
    if session is None or session.jwt is None:
        return
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in OWN_NAVIGATION:
        return
    try:
        reply = await call_service(
            request, "auth", "PATCH", "/accounts/me", json={"language": language}
        )
    except Problem as problem:
        log.warning("account_language_not_recorded", status=problem.status)
        return
    if not reply.ok:
        log.warning("account_language_not_recorded", status=reply.status)
