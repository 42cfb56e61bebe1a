"""The names of the writer's families, for the staff e-mail of a contact message.

Staff know a family by its name (« Famille TEST »), which the families service owns. The
e-mail is rendered when the message is stored, so the name is asked then, through the
gateway, with the writer's own token: `GET /api/families/me/families` answers the caller's
households only (id, name, size), nothing of another family and no more than the name.

The name is a courtesy, the message is not: the call is bounded by its own short timeout,
and when families cannot answer (down, slow, an error, garbage) the e-mail names the
writer's address instead and is stored and sent as usual.
"""

from __future__ import annotations

from typing import Any

import structlog
from aiohttp import ClientError, ClientTimeout, web

from services.kit.identity import caller
from services.kit.keys import HTTP_CLIENT

from .keys import NOTIFICATIONS_SETTINGS

log = structlog.get_logger(__name__)


async def names_of_callers_families(request: web.Request) -> dict[str, str]:
    """Family id → name of the calling parent's households; empty when unknown or unreadable."""
    if caller(request).role != "family":
        return {}  # staff write as the structure: their e-mails name no family
    settings = request.app[NOTIFICATIONS_SETTINGS]
    url = settings.gateway_url.rstrip("/") + settings.family_names_path
    headers = {"Authorization": request.headers.get("Authorization", "")}
    timeout = ClientTimeout(total=settings.family_name_timeout_seconds)
    try:
        async with request.app[HTTP_CLIENT].get(url, headers=headers, timeout=timeout) as answer:
            if answer.status != 200:
                log.warning("family_names_unavailable", status=answer.status)
                return {}
            return parse_names(await answer.json(content_type=None))
    except (ClientError, TimeoutError, ValueError) as exc:
        log.warning("family_names_unavailable", error=type(exc).__name__)
        return {}


def parse_names(document: Any) -> dict[str, str]:
    """The names in families' answer (a list of `{"id", "name", …}`); anything else: none."""
    rows = document if isinstance(document, list) else []
    return {
        row["id"]: row["name"].strip()
        for row in rows
        if isinstance(row, dict)
        and isinstance(row.get("id"), str)
        and isinstance(row.get("name"), str)
        and row["name"].strip()
    }
