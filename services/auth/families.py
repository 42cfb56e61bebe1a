"""Whether a family exists, asked of the families service through the gateway.

Auth keeps a family only as an id: it cannot tell a family's id from a child's, an
activity's or a made-up one; the families service can. It is asked with the caller's own
token, so auth learns nothing its caller could not read — and a municipal system needs
`families:read` besides `auth:write` to invite.
"""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import ClientError, web

from services.kit.keys import HTTP_CLIENT, SETTINGS

from .errors import FamiliesUnavailable, FamilyNotReadable, UnknownFamily

FAMILY_PATH = "/api/families/families/{family_id}"
# What the families service (or the gateway's validation) answers for an id that is no family's.
NOT_A_FAMILY = frozenset({400, 404, 422})


async def require_existing_family(request: web.Request, family_id: str) -> None:
    """Return when the families service knows `family_id`; a problem otherwise (422, 403, 503)."""
    settings = request.app[SETTINGS]
    path = FAMILY_PATH.format(family_id=quote(family_id, safe=""))
    url = settings.gateway_url.rstrip("/") + path
    headers = {"Authorization": request.headers.get("Authorization", "")}
    try:
        async with request.app[HTTP_CLIENT].get(url, headers=headers) as response:
            status = response.status
    except (ClientError, TimeoutError):
        raise FamiliesUnavailable(_UNAVAILABLE) from None
    if status == 200:
        return
    if status in NOT_A_FAMILY:
        raise UnknownFamily(
            f"Aucune famille n'a l'identifiant {family_id} : rien n'a été créé.",
            errors=[{"field": "family_id", "message": "Cet identifiant n'est pas une famille."}],
        )
    if status == 403:
        raise FamilyNotReadable(
            "La famille ne peut pas être vérifiée avec ce jeton : il faut aussi le droit "
            "families:read. Rien n'a été créé."
        )
    raise FamiliesUnavailable(_UNAVAILABLE)


_UNAVAILABLE = (
    "Le service des familles ne peut pas confirmer que la famille existe : rien n'a été créé."
    " Réessayez plus tard."
)
