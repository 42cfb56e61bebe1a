"""Calling a service from a page, as the signed-in visitor, within the gateway's guards."""

from __future__ import annotations

import asyncio
import json as jsonlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import structlog
from aiohttp import ClientError, web
from multidict import CIMultiDictProxy
from pydantic import TypeAdapter, ValidationError

from services.families.schemas import MAX_FAMILY_NAMES, Id
from services.kit.identity import Identity
from services.kit.problems import (
    BadGateway,
    GatewayTimeout,
    NotFound,
    Problem,
    ServiceUnavailable,
)

from .keys import BREAKERS, GATEWAY_SETTINGS, SESSION, UPSTREAM_CLIENT, UPSTREAM_METRICS

log = structlog.get_logger(__name__)

_FAMILY_ID: TypeAdapter[str] = TypeAdapter(Id)


@dataclass(frozen=True)
class ServiceReply:
    """A service's answer: status, decoded JSON body (None when not JSON), headers."""

    status: int
    data: Any
    headers: CIMultiDictProxy[str]

    @property
    def ok(self) -> bool:
        """2xx."""
        return 200 <= self.status < 300


async def call_service(
    request: web.Request,
    service: str,
    method: str,
    path: str,
    *,
    json: Any = None,
    params: dict[str, str] | None = None,
    deadline: float | None = None,
    bearer: str | None = None,
) -> ServiceReply:
    """Call `service` at `path` with the visitor's token; down/slow → 502/503/504 problems.

    `bearer`: the token of a session made by this very request (a sign-in), not yet the
    request's own.

    Pages render those problems as French error pages; a page that can do without the
    service catches them (`services.kit.problems.Problem`) and says so instead.
    """
    settings = request.app[GATEWAY_SETTINGS]
    base = settings.service_urls().get(service)
    if base is None:
        raise NotFound(f"There is no service named '{service}'.")
    breaker = request.app[BREAKERS][service]
    metrics = request.app[UPSTREAM_METRICS]
    if not breaker.allow():
        metrics.calls.labels(service, "breaker_open").inc()
        raise ServiceUnavailable(
            f"The {service} service is temporarily unavailable.",
            headers={"Retry-After": str(breaker.retry_after())},
        )
    headers = {}
    session = request.get(SESSION)
    token = bearer or (session.jwt if session is not None else None)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    limit = deadline or settings.upstream_deadline_seconds
    try:
        async with asyncio.timeout(limit):
            async with request.app[UPSTREAM_CLIENT].request(
                method, f"{base}{path}", json=json, params=params, headers=headers
            ) as response:
                body = await response.read()
                status, reply_headers = response.status, response.headers
    except TimeoutError:
        breaker.record_failure()
        metrics.calls.labels(service, "timeout").inc()
        raise GatewayTimeout(f"The {service} service did not answer within {limit:g} s.") from None
    except ClientError as exc:
        breaker.record_failure()
        metrics.calls.labels(service, "unreachable").inc()
        log.warning("service_call_failed", service=service, error=type(exc).__name__)
        raise BadGateway(f"The {service} service cannot be reached.") from None
    except BaseException:
        breaker.release()  # cancelled, or a bug of ours: nothing learnt about the service
        raise
    if status in (502, 503, 504):
        breaker.record_failure()
        raise ServiceUnavailable(f"The {service} service is temporarily unavailable.")
    breaker.record_success()
    metrics.calls.labels(service, f"{status // 100}xx").inc()
    try:
        data = jsonlib.loads(body) if body else None
    except ValueError:
        data = None
    return ServiceReply(status=status, data=data, headers=reply_headers)


async def fetch_json(request: web.Request, service: str, path: str, **params: str) -> Any:
    """A service's JSON for a page, or None when it could not answer (the page says so)."""
    try:
        reply = await call_service(request, service, "GET", path, params=params or None)
    except Problem:
        return None
    return reply.data if reply.ok else None


async def family_names(request: web.Request, family_ids: Iterable[str]) -> dict[str, str]:
    """Each family's name, for staff pages whose service knows only the id (documents to
    review, messages, accounts, registrations). One call to the families service per
    MAX_FAMILY_NAMES ids; a family it could not read is left out, and the page falls back to
    a plain link."""
    wanted = sorted({i for i in family_ids if _could_be_a_family_id(i)})
    chunks = [
        wanted[start : start + MAX_FAMILY_NAMES]
        for start in range(0, len(wanted), MAX_FAMILY_NAMES)
    ]
    found = await asyncio.gather(*(_names_of_families(request, chunk) for chunk in chunks))
    return {family_id: name for names in found for family_id, name in names.items()}


def _could_be_a_family_id(value: str) -> bool:
    # One id the service refuses (422) would cost the names of the whole chunk.
    try:
        _FAMILY_ID.validate_python(value)
    except ValidationError:
        return False
    return True


async def _names_of_families(request: web.Request, family_ids: list[str]) -> dict[str, str]:
    """The names the families service gives for these ids, or none when it cannot answer."""
    try:
        reply = await call_service(
            request, "families", "POST", "/families/names", json={"ids": family_ids}
        )
    except Problem:
        return {}
    families = reply.data.get("families") if reply.ok and isinstance(reply.data, dict) else None
    return {
        f["id"]: f["name"]
        for f in families or []
        if isinstance(f, dict) and isinstance(f.get("id"), str) and f.get("name")
    }


# The kit refuses a body its model rejects in English, for API clients; a French page showed it
# as it was, English in a French page. Said as families' own validation says it (the English
# catalogue translates that sentence back).
KIT_VALIDATION_DETAILS = {
    "Some fields are missing or invalid.": "Certains champs sont manquants ou invalides.",
}


def problem_detail(data: Any, fallback: str) -> str:
    """The `detail` of a service's problem+json, or `fallback` when there is none."""
    if not isinstance(data, dict):
        return fallback
    status, detail = data.get("status"), data.get("detail")
    # A service's own failure (5xx) is described in English for its logs, not for a parent:
    # the page's French fallback says it better.
    if isinstance(status, int) and status >= 500:
        return fallback
    if not isinstance(detail, str):
        return fallback
    return KIT_VALIDATION_DETAILS.get(detail, detail)


def chosen_family(identity: Identity, wanted: str | None) -> str | None:
    """The family a page shows: the one asked for (`famille=`), else the visitor's first.

    An id that is not one of the visitor's families is refused (404, as a missing page)
    rather than quietly replaced by their own: the address or form asked for someone else's.
    """
    family_ids = [m.family_id for m in identity.memberships]
    if wanted:
        if wanted not in family_ids:
            raise web.HTTPNotFound()
        return wanted
    return family_ids[0] if family_ids else None
