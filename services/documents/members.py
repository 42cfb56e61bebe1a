"""The members of a family, read from the families service through the gateway.

The documents service owns no persons: who belongs to a family is the families service's
data. It is asked with the caller's own token, so a family only ever learns about its own
members, and an upload "for" a child of another family is refused here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from aiohttp import ClientError, web

from services.kit.keys import HTTP_CLIENT, SETTINGS

from .errors import MembersUnavailable

CHILD_ROLES = frozenset({"child", "enfant"})
OUTSIDE_ROLES = frozenset({"contact"})


@dataclass(frozen=True)
class Member:
    """A person of the family, as far as documents need one."""

    id: str
    name: str
    is_child: bool


def parse_members(document: Any) -> list[Member]:
    """Members from the families answer: a list, or an object with `items` or `persons`."""
    rows = document
    if isinstance(document, dict):
        rows = document.get("items", document.get("persons", []))
    members = []
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict) or not row.get("id"):
            continue
        name = " ".join(str(row.get(k) or "").strip() for k in ("first_name", "last_name"))
        name = name.strip() or str(row.get("name") or "")
        role = str(row.get("role") or "").lower()
        if role in OUTSIDE_ROLES:
            continue  # an emergency contact is not a member of the household
        members.append(Member(str(row["id"]), name, role in CHILD_ROLES))
    return members


async def family_members(request: web.Request, family_id: str) -> list[Member]:
    """The family's members, or `MembersUnavailable` (the caller decides how to degrade)."""
    settings = request.app[SETTINGS]
    path = settings.members_path.format(family_id=quote(family_id, safe=""))  # type: ignore[attr-defined]
    url = settings.gateway_url.rstrip("/") + path
    headers = {"Authorization": request.headers.get("Authorization", "")}
    try:
        async with request.app[HTTP_CLIENT].get(url, headers=headers) as response:
            if response.status == 404:
                return []
            if response.status != 200:
                raise MembersUnavailable(_UNAVAILABLE)
            return parse_members(await response.json())
    except (ClientError, TimeoutError, ValueError):
        raise MembersUnavailable(_UNAVAILABLE) from None


_UNAVAILABLE = (
    "La liste des membres de la famille est momentanément indisponible. Réessayez plus tard."
)
