"""What bookings asks other services, through the gateway, as the caller (their token).

- families: `GET /api/families/families/{family_id}/persons/{person_id}` → the person, with
  `birth_date`; 404 when the person is not a member of that family (or not the caller's).
- documents: `GET /api/documents/families/{family_id}/completeness?person_id=&activity_id=`
  → `{"complete": bool, "missing": [{"document_type_id", "name"}]}`.

Anything else than a usable answer (down, timeout, 5xx, garbage) is `CheckUnavailable`:
the request is then refused, never registered on a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote

import structlog
from aiohttp import ClientError, ClientSession
from pydantic import BaseModel, ValidationError

from .errors import CheckUnavailable, PersonNotFound

log = structlog.get_logger(__name__)


class _Person(BaseModel):
    id: str
    first_name: str = ""
    last_name: str = ""
    birth_date: date | None = None


class _Missing(BaseModel):
    document_type_id: str = ""
    name: str
    state: str = "missing"


# Documents states (see the documents service) of a file sent but not yet accepted.
WAITING_STATES = frozenset({"scanning", "pending"})


class _Completeness(BaseModel):
    complete: bool
    missing: list[_Missing] = []


@dataclass(frozen=True)
class Person:
    """A family member as families describes it."""

    id: str
    first_name: str
    last_name: str
    birth_date: date | None

    @property
    def full_name(self) -> str:
        """First and last name."""
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True)
class Completeness:
    """Whether a person's required documents for an activity are all there."""

    complete: bool
    missing: tuple[str, ...]
    # Of `missing`, those already sent and waiting for the structure's check.
    waiting: tuple[str, ...] = ()


@dataclass(frozen=True)
class Upstream:
    """The gateway's address, the HTTP client and the caller's Authorization to forward."""

    http: ClientSession
    gateway_url: str
    authorization: str

    async def _get(self, path: str, params: dict[str, str] | None, what: str) -> tuple[int, Any]:
        url = self.gateway_url.rstrip("/") + path
        try:
            async with self.http.get(
                url, params=params, headers={"Authorization": self.authorization}
            ) as response:
                if response.status != 200:
                    return response.status, None
                return 200, await response.json(content_type=None)
        except (ClientError, TimeoutError, ValueError) as exc:
            log.warning("upstream_failed", check=what, error=type(exc).__name__)
            return 0, None

    async def person(self, *, family_id: str, person_id: str) -> Person:
        """The person of this family, or `PersonNotFound`, or `CheckUnavailable`."""
        family, member = quote(family_id, safe=""), quote(person_id, safe="")
        path = f"/api/families/families/{family}/persons/{member}"
        status, body = await self._get(path, None, "families")
        if status == 404:
            raise PersonNotFound("Cette personne ne fait pas partie de votre famille.")
        try:
            if status != 200:
                raise ValueError(status)
            person = _Person.model_validate(body)
        except (ValueError, ValidationError):
            log.warning("upstream_unusable", check="families", status=status)
            raise CheckUnavailable(
                "Vérification de la personne impossible pour le moment ; réessayez plus tard."
            ) from None
        return Person(person.id, person.first_name, person.last_name, person.birth_date)

    async def completeness(
        self, *, family_id: str, person_id: str, activity_id: str
    ) -> Completeness:
        """The documents service's verdict, or `CheckUnavailable`."""
        path = f"/api/documents/families/{quote(family_id, safe='')}/completeness"
        params = {"person_id": person_id, "activity_id": activity_id}
        status, body = await self._get(path, params, "documents")
        try:
            if status != 200:
                raise ValueError(status)
            verdict = _Completeness.model_validate(body)
        except (ValueError, ValidationError):
            log.warning("upstream_unusable", check="documents", status=status)
            raise CheckUnavailable(
                "Vérification des documents impossible pour le moment ; "
                "la demande n'a pas été enregistrée, réessayez plus tard."
            ) from None
        waiting = tuple(m.name for m in verdict.missing if m.state in WAITING_STATES)
        return Completeness(verdict.complete, tuple(m.name for m in verdict.missing), waiting)
