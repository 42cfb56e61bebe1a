"""Reading what a request says about its sender: client address, session, account, roles."""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Awaitable, Callable
from urllib.parse import unquote

from aiohttp import web
from multidict import CIMultiDict

from services.kit.identity import Identity, caller, require_staff
from services.kit.problems import Forbidden

from .config import AuthSettings
from .errors import InvalidClient

SESSION_HEADER = "X-Session-Token"
ENROLMENT_HEADER = "X-Enrolment-Token"
TOKEN_PATH = "/oauth/token"  # noqa: S105 - a path
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def client_ip(request: web.Request, settings: AuthSettings) -> str:
    """The client's address: the last X-Forwarded-For hop (the gateway's), else the peer.

    Only the last hop is trusted: the gateway appends the address it saw, and anything
    before it was written by the client.
    """
    if settings.trust_forwarded_for:
        hops = ",".join(request.headers.getall("X-Forwarded-For", [])).split(",")
        last = hops[-1].strip()
        if last:
            try:
                return str(ipaddress.ip_address(last))
            except ValueError:
                pass
    return request.remote or "unknown"


def session_token(request: web.Request) -> str:
    """The session secret the gateway sends back, or an empty string."""
    return request.headers.get(SESSION_HEADER, "").strip()


def require_account(request: web.Request) -> Identity:
    """A signed-in person (family or staff), not a municipal system."""
    identity = caller(request)
    if identity.role not in ("family", "staff"):
        raise Forbidden("This operation is for a person's own account.")
    return identity


def require_administrator(request: web.Request) -> Identity:
    """Staff with the administrator role."""
    identity = require_staff(request)
    if "administrator" not in identity.staff_roles:
        raise Forbidden("This operation is reserved to administrators.")
    return identity


def basic_credentials(header: str) -> tuple[str, str] | None:
    """(client_id, client_secret) from `Basic …` (RFC 6749 §2.3.1: each form-url-encoded)."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        return None
    return unquote(client_id), unquote(secret)


BASIC_CHALLENGE = 'Basic realm="portail", charset="UTF-8"'
BASIC_CREDENTIALS: web.RequestKey[tuple[str, str] | None] = web.RequestKey("basic_credentials")


@web.middleware
async def client_basic_auth_middleware(
    request: web.Request, handler: Handler
) -> web.StreamResponse:
    """Take `Authorization: Basic` off the token endpoint before the kit reads bearer tokens.

    The kit refuses any non-bearer Authorization header; OAuth clients authenticate with
    Basic on exactly one route, so it is read here and removed from the request.
    """
    header = request.headers.get("Authorization", "")
    if request.path != TOKEN_PATH or not header.lower().startswith("basic "):
        return await handler(request)
    credentials = basic_credentials(header)
    if credentials is None:
        raise InvalidClient(
            "Malformed Basic credentials.",
            error="invalid_client",
            headers={"WWW-Authenticate": BASIC_CHALLENGE},
        )
    headers = CIMultiDict(request.headers)
    del headers["Authorization"]
    stripped = request.clone(headers=headers)
    stripped[BASIC_CREDENTIALS] = credentials
    return await handler(stripped)
