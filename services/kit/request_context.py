"""Middleware giving every request an id, echoed in the response and bound to logs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from .context import REQUEST_ID_HEADER, accept_request_id, current_request_id

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def request_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Adopt the caller's request id (or make one) for the duration of the request."""
    request_id = accept_request_id(request.headers.get(REQUEST_ID_HEADER))
    token = current_request_id.set(request_id)
    structlog.contextvars.bind_contextvars(request_id=request_id)
    try:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            exc.headers[REQUEST_ID_HEADER] = request_id
            raise
        response.headers[REQUEST_ID_HEADER] = request_id
        return response
    finally:
        structlog.contextvars.unbind_contextvars("request_id")
        current_request_id.reset(token)
