"""RFC 9457 problem details: the exceptions services raise, rendered by one middleware."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiohttp import web

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "https://portail-famille.fr/problems/"

log = structlog.get_logger(__name__)


class Problem(Exception):
    """A failure with a stable `type`, an HTTP status and a precise `detail`."""

    status = 500
    slug = "internal-error"
    title = "Internal error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors
        self.headers = headers or {}
        self.extensions = extensions

    def to_dict(self, instance: str | None = None) -> dict[str, Any]:
        """The problem as a JSON object."""
        body: dict[str, Any] = {
            "type": TYPE_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extensions)
        return body


class BadRequest(Problem):
    status, slug, title = 400, "bad-request", "Bad request"


class ValidationFailed(Problem):
    status, slug, title = 422, "validation-failed", "Validation failed"


class Unauthenticated(Problem):
    status, slug, title = 401, "unauthenticated", "Authentication required"


class Forbidden(Problem):
    status, slug, title = 403, "forbidden", "Forbidden"


class NotFound(Problem):
    status, slug, title = 404, "not-found", "Not found"


class MethodNotAllowed(Problem):
    status, slug, title = 405, "method-not-allowed", "Method not allowed"


class Conflict(Problem):
    status, slug, title = 409, "conflict", "Conflict"


class PayloadTooLarge(Problem):
    status, slug, title = 413, "payload-too-large", "Payload too large"


class UnsupportedMediaType(Problem):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class TooManyRequests(Problem):
    status, slug, title = 429, "too-many-requests", "Too many requests"


class BadGateway(Problem):
    status, slug, title = 502, "bad-gateway", "Bad gateway"


class ServiceUnavailable(Problem):
    status, slug, title = 503, "service-unavailable", "Service unavailable"


class GatewayTimeout(Problem):
    status, slug, title = 504, "gateway-timeout", "Gateway timeout"


_HTTP_EXCEPTION_PROBLEMS: dict[int, type[Problem]] = {
    400: BadRequest,
    401: Unauthenticated,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    409: Conflict,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    429: TooManyRequests,
}


def problem_response(problem: Problem, instance: str | None = None) -> web.Response:
    """Render a problem as an `application/problem+json` response."""
    response = web.Response(
        status=problem.status,
        body=json.dumps(problem.to_dict(instance), ensure_ascii=False).encode(),
        content_type=PROBLEM_CONTENT_TYPE,
    )
    response.headers.update(problem.headers)
    return response


def problem_from_http_exception(exc: web.HTTPException) -> Problem:
    """Map aiohttp's own errors (unknown route, wrong method, body too large) to problems."""
    cls = _HTTP_EXCEPTION_PROBLEMS.get(exc.status)
    if cls is None:
        generic = Problem(exc.text or exc.reason)
        generic.status, generic.title = exc.status, exc.reason
        return generic
    if exc.status == 404:
        return cls("No resource at this address.")
    if exc.status == 405:
        allowed = ", ".join(sorted(getattr(exc, "allowed_methods", ()) or ()))
        return cls(f"Method not allowed here. Allowed: {allowed}.", headers={"Allow": allowed})
    if exc.status == 413:
        return cls("The request body is larger than this endpoint accepts.")
    return cls(exc.text if exc.text and not exc.text.startswith(str(exc.status)) else None)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every failure into problem+json; an unexpected one is logged and answered 500."""
    try:
        return await handler(request)
    except Problem as problem:
        return problem_response(problem, request.path)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return problem_response(problem_from_http_exception(exc), request.path)
    except Exception as exc:
        if isinstance(exc, ConnectionResetError) and _client_gone(request):
            # The client left mid-body (a closed tab, a gateway killed during an upload):
            # nobody to answer, and no failure of ours to log or count as a 500.
            log.info("client_disconnected", path=request.path)
            return problem_response(BadRequest("The request ended before its body."), request.path)
        log.exception("unhandled_error", path=request.path)
        return problem_response(Problem("An unexpected error occurred."), request.path)


def _client_gone(request: web.Request) -> bool:
    """Whether the caller's own connection is closed (not one to a database or S3)."""
    transport = request.transport
    return transport is None or transport.is_closing()
