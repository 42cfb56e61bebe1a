"""No state change from another site: an Origin check, and a CSRF token bound to the session.

The token is HMAC(secret, session token): nothing to store, it changes with every session,
and a page of another site can neither read it nor compute it. Forms carry it in the field
`csrf_token`, scripts in the header `X-CSRF-Token`. Every state-changing request must come
from our own origin (`Origin`, else `Referer`, compared with `PUBLIC_BASE_URL`); those that
carry the session cookie must also carry the token. Requests without the cookie (municipal
systems with their own bearer token) are not a browser's ambient authority: no token needed.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.web_request import FileField
from multidict import MultiDictProxy

from services.kit.problems import BadRequest, Forbidden

from .keys import GATEWAY_SETTINGS
from .paths import is_api_path

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def csrf_token_for(secret: str, session_token: str) -> str:
    """The CSRF token of a session."""
    digest = hmac.new(secret.encode(), b"csrf:" + session_token.encode(), hashlib.sha256)
    return digest.hexdigest()


def csrf_token(request: web.Request) -> str:
    """The CSRF token for forms of this request's session ('' when signed out)."""
    settings = request.app[GATEWAY_SETTINGS]
    cookie = request.cookies.get(settings.session_cookie_name)
    return csrf_token_for(settings.secret_key, cookie) if cookie else ""


def _origin_of(value: str) -> str:
    parts = urlsplit(value)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def same_origin(request: web.Request) -> bool:
    """Does the request say it comes from our own origin (Origin, else Referer)?"""
    allowed = request.app[GATEWAY_SETTINGS].allowed_origins
    origin = request.headers.get("Origin")
    if origin is not None and origin != "null":
        return origin in allowed
    referer = request.headers.get("Referer")
    if referer:
        return _origin_of(referer) in allowed
    return False


def _is_page_form(request: web.Request) -> bool:
    # Forms are read only on the gateway's own pages: proxied bodies are streamed untouched.
    return not is_api_path(request.path) and request.content_type in FORM_TYPES


async def _page_form(
    request: web.Request,
) -> MultiDictProxy[str | bytes | bytearray | FileField]:
    """The page's form, read once here (aiohttp keeps it for the handler), or 400.

    aiohttp raises ValueError for a multipart body without its boundary and for bytes that
    are not UTF-8: the sender's mistake, which every page would otherwise answer with a 500.
    """
    try:
        return await request.post()
    except ValueError:
        raise BadRequest("Le formulaire envoyé est illisible.") from None


async def _submitted_token(request: web.Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if _is_page_form(request):
        value = (await _page_form(request)).get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse state-changing requests from another origin or without the session's token."""
    if request.method in SAFE_METHODS or request.match_info.http_exception is not None:
        # Reads change nothing; an unknown route or method changes nothing either (404/405).
        return await handler(request)
    settings = request.app[GATEWAY_SETTINGS]
    cookie = request.cookies.get(settings.session_cookie_name)
    is_page = not is_api_path(request.path)
    if (cookie or is_page) and not same_origin(request):
        raise Forbidden("This request does not come from the portal's own pages.")
    if cookie:
        expected = csrf_token_for(settings.secret_key, cookie)
        if not hmac.compare_digest(await _submitted_token(request), expected):
            raise Forbidden("The form has expired or its security token is missing.")
    elif _is_page_form(request):
        await _page_form(request)  # signed out (sign-in, first sign-in, reset): read it too
    return await handler(request)
