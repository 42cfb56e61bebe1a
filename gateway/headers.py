"""Security headers on every response: pages, errors, static files and proxied answers alike.

They are set in `on_response_prepare`, the last moment before headers leave, because that hook
also sees streamed (proxied) responses and aiohttp's own error responses, which a middleware
returning a response object would miss.
"""

from __future__ import annotations

import secrets

from aiohttp import web

from services.kit.context import REQUEST_ID_HEADER, current_request_id

from .keys import CSP_NONCE, GATEWAY_SETTINGS
from .paths import is_api_path

HSTS = "max-age=63072000; includeSubDomains"
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), interest-cohort=()"
)
# API answers are data, never a document to render: nothing may load from them.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def page_csp(nonce: str) -> str:
    """Our own origin only; scripts only with this response's nonce; never framed."""
    return (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self'; "
        "img-src 'self' data:; "
        "font-src 'self'; "
        "connect-src 'self'; "
        "object-src 'none'; "
        "base-uri 'self'; "
        "form-action 'self'; "
        "frame-ancestors 'none'"
    )


def csp_nonce(request: web.Request) -> str:
    """The CSP nonce of this request, for `<script nonce="…">` in templates."""
    nonce = request.get(CSP_NONCE)
    if nonce is None:
        nonce = secrets.token_urlsafe(16)
        request[CSP_NONCE] = nonce
    return nonce


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: the headers every response carries."""
    headers = response.headers
    request_id = current_request_id.get()
    if request_id and REQUEST_ID_HEADER not in headers:
        # Streamed answers leave before the request-id middleware could add it.
        headers[REQUEST_ID_HEADER] = request_id
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    headers["X-Frame-Options"] = "DENY"
    headers["Permissions-Policy"] = PERMISSIONS_POLICY
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    if request.app[GATEWAY_SETTINGS].hsts:
        headers["Strict-Transport-Security"] = HSTS
    path = request.path
    if is_api_path(path):
        # A service may know better for its own answers (a sandbox for downloads): keep it.
        headers.setdefault("Content-Security-Policy", API_CSP)
    else:
        headers["Content-Security-Policy"] = page_csp(csp_nonce(request))
    if path.startswith("/static/"):
        headers["Cache-Control"] = "public, max-age=3600"
    else:
        # Pages are private (a family's data); API answers too. Nothing is kept by caches.
        headers["Cache-Control"] = "no-store"
        headers.setdefault("Vary", "Cookie")
