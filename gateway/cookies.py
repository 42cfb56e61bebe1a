"""Cookies added from `on_response_prepare`, where aiohttp has already written `Set-Cookie`."""

from __future__ import annotations

from typing import Any

from aiohttp import hdrs, web


def add_cookie_header(response: web.StreamResponse, name: str, value: str, **options: Any) -> None:
    """Append a `Set-Cookie` header built by aiohttp's own cookie code (`value=''` deletes)."""
    scratch = web.Response()
    if value:
        scratch.set_cookie(name, value, **options)
    else:
        scratch.del_cookie(name, **options)
    response.headers.add(hdrs.SET_COOKIE, scratch.cookies[name].OutputString())
