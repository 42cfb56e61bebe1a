"""Who may call what: families read their own invoices (another family's answer 404), staff
run and correct the invoicing, the finance department's software records payments."""

from __future__ import annotations

from aiohttp import web

from services.kit.identity import Identity, caller, require_family, require_scope
from services.kit.problems import Forbidden, NotFound

READ_SCOPE = "billing:read"
WRITE_SCOPE = "billing:write"
INVOICES_RIGHT = "invoices"
MAX_ID_LENGTH = 36


def path_id(request: web.Request, name: str) -> str:
    """An id from the path; one no record can have (too long, control characters) is a 404."""
    value = request.match_info[name]
    if len(value) > MAX_ID_LENGTH or any(ord(c) < 32 for c in value):
        raise NotFound("No such resource.")
    return value


def family_reader(request: web.Request, family_id: str) -> Identity:
    """A member of the family, staff, or a municipal system with `billing:read`."""
    identity = caller(request)
    if identity.role == "service":
        if identity.scopes & {READ_SCOPE, WRITE_SCOPE}:
            return identity
        raise Forbidden(f"This operation needs the '{READ_SCOPE}' scope.")
    return require_family(request, family_id)


def family_payer(request: web.Request, family_id: str) -> Identity:
    """A member of the family whose account holds the `invoices` right."""
    identity = caller(request)
    if identity.role != "family":
        raise Forbidden("Online payment is made by the family itself.")
    return require_family(request, family_id, right=INVOICES_RIGHT)


def staff_or_reader(request: web.Request) -> Identity:
    """Staff, or a municipal system with `billing:read` (or write)."""
    identity = caller(request)
    if identity.role == "staff" or (
        identity.role == "service" and identity.scopes & {READ_SCOPE, WRITE_SCOPE}
    ):
        return identity
    raise Forbidden(f"This operation needs the '{READ_SCOPE}' scope.")


def staff_or_writer(request: web.Request) -> Identity:
    """Staff, or a municipal system with `billing:write`."""
    return require_scope(request, WRITE_SCOPE)
