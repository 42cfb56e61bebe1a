"""Refuse input no service can store: NUL and other control characters in paths and queries.

PostgreSQL text cannot hold NUL, so an id like `a%00b` would reach the driver and fail as a
500; refusing it here, once, answers 400 for every route of every service.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from aiohttp import web

from .problems import BadRequest

# C1 controls (U+0080…U+009F) too: no text of ours holds one, and the services refuse them in
# fields, which a page handed that refusal answered with a 500.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# JSON can smuggle NUL as an escape; the decoded string would then fail in the database.
NUL_ESCAPE = re.compile(rb"\\u0000", re.IGNORECASE)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def has_control_characters(text: str) -> bool:
    """Whether `text` holds a character no field of ours accepts."""
    return _CONTROL_CHARACTERS.search(text) is not None


@web.middleware
async def control_characters_middleware(
    request: web.Request, handler: Handler
) -> web.StreamResponse:
    """400 for a path or query string carrying control characters."""
    if has_control_characters(request.path) or any(
        has_control_characters(key) or has_control_characters(value)
        for key, value in request.query.items()
    ):
        raise BadRequest("The address contains control characters.")
    return await handler(request)
