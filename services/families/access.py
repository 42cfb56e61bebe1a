"""Who may call what, on top of the kit's identity helpers.

- a family reads its own households only (another family's ids answer 404, like missing ones);
- a family writes only through change requests, and only with the account's `edit` right;
- staff read and write everything directly; municipal systems need `families:read` /
  `families:write`;
- anonymous callers get 401 everywhere.
"""

from __future__ import annotations

from aiohttp import web

from services.kit.identity import Identity, caller, require_family
from services.kit.problems import Forbidden

from .fields import PolicyRole

READ_SCOPE = "families:read"
WRITE_SCOPE = "families:write"


def records_reader(request: web.Request) -> Identity:
    """Staff, or a municipal system with `families:read` (or `families:write`, which implies it)."""
    identity = caller(request)
    if identity.role == "staff" or (
        identity.role == "service" and identity.scopes & {READ_SCOPE, WRITE_SCOPE}
    ):
        return identity
    raise Forbidden(f"This operation needs the '{READ_SCOPE}' scope.")


def family_reader(request: web.Request, family_id: str) -> Identity:
    """A member of the family, staff, or a municipal system with `families:read`."""
    if caller(request).role == "service":
        return records_reader(request)
    return require_family(request, family_id)


def family_editor(request: web.Request, family_id: str) -> Identity:
    """A member of the family whose account may edit it (requests are the family's own)."""
    identity = caller(request)
    if identity.role != "family":
        raise Forbidden("Change requests are made by families; staff edit the record directly.")
    return require_family(request, family_id, right="edit")


def policy_role(identity: Identity) -> PolicyRole:
    """Which column of the field policy applies: families, or staff (imports act as staff)."""
    return "family" if identity.role == "family" else "staff"
