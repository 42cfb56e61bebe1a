"""Request size limits: small JSON bodies, larger uploads, refused before anything is buffered."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from functools import lru_cache

from aiohttp import web

from services.kit.problems import BadRequest, PayloadTooLarge

from .keys import GATEWAY_SETTINGS

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@lru_cache(maxsize=8)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def is_upload_path(request: web.Request) -> bool:
    """Whether the path is one where large bodies (uploads) are expected."""
    pattern = request.app[GATEWAY_SETTINGS].upload_path_pattern
    return _compiled(pattern).search(request.path) is not None


def body_limit_of(request: web.Request) -> int:
    """The largest body this path accepts: the upload limit on upload paths, else the JSON one."""
    settings = request.app[GATEWAY_SETTINGS]
    if is_upload_path(request):
        return settings.max_upload_body_bytes
    return settings.max_json_body_bytes


@web.middleware
async def body_limit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse a declared length over the limit at once; streamed bodies are cut by the proxy."""
    declared = request.headers.get("Content-Length")
    if declared is not None:
        try:
            length = int(declared)
        except ValueError:
            raise BadRequest("Content-Length is not a number.") from None
        limit = body_limit_of(request)
        if length > limit:
            raise PayloadTooLarge(
                f"The request body ({length} bytes) is larger than this address accepts "
                f"({limit} bytes)."
            )
    return await handler(request)
