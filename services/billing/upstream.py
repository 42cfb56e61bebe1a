"""Reading the bookings and families services, through the gateway, with the caller's token.

Contracts consumed:
- `GET {gateway}/api/bookings/billable-lines?month=YYYY-MM` →
  `{"items": [{family_id, person_id, person_name, activity_id, activity_name, unit, date, state}]}`
  with state in reserved | present | absent_justified | absent_unjustified;
- `GET {gateway}/api/families/families/{id}` → the family, with `name`, address fields,
  `email`, `quotient` (euros, None when unknown).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from aiohttp import ClientError, ClientSession
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .config import BillingSettings
from .errors import UpstreamUnavailable

Attendance = Literal["reserved", "present", "absent_justified", "absent_unjustified"]
FAMILY_CONCURRENCY = 32


class BillableLine(BaseModel):
    """A booked unit of a child on a day, with what happened."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    family_id: str = Field(min_length=1, max_length=36)
    person_id: str = Field(min_length=1, max_length=36)
    person_name: str = Field(max_length=160)
    activity_id: str = Field(min_length=1, max_length=36)
    activity_name: str = Field(max_length=120)
    unit: str = Field(min_length=1, max_length=40)
    date: date
    state: Attendance


class FamilyInfo(BaseModel):
    """What an invoice needs of a family."""

    model_config = ConfigDict(extra="ignore")

    id: str
    name: str
    address: str | None = None
    address_complement: str | None = None
    postal_code: str | None = None
    city: str | None = None
    email: str | None = None
    quotient: int | None = None

    def postal_address(self) -> str:
        """One line of address."""
        parts = [
            self.address,
            self.address_complement,
            " ".join(p for p in (self.postal_code, self.city) if p),
        ]
        return ", ".join(p for p in parts if p)


@dataclass(frozen=True)
class Upstream:
    """The gateway and the token to call it with."""

    http: ClientSession
    settings: BillingSettings
    authorization: str

    async def _get(self, path: str, params: dict[str, str] | None = None) -> tuple[int, Any]:
        url = self.settings.gateway_url.rstrip("/") + path
        try:
            async with self.http.get(
                url, params=params, headers={"Authorization": self.authorization}
            ) as response:
                data = await response.json(content_type=None) if response.status < 500 else None
                return response.status, data
        except (ClientError, TimeoutError, ValueError) as exc:
            raise UpstreamUnavailable(
                f"Le service n'a pas répondu ({path.split('/')[2]}) : {type(exc).__name__}."
            ) from None

    async def billable_lines(self, month: str) -> list[BillableLine]:
        """The month's billable lines from bookings."""
        status, data = await self._get(self.settings.billable_lines_path, {"month": month})
        if status != 200 or not isinstance(data, dict):
            raise UpstreamUnavailable(
                f"Les lignes facturables de {month} n'ont pas pu être lues (bookings : {status})."
            )
        try:
            return [BillableLine.model_validate(item) for item in data.get("items", [])]
        except ValidationError as exc:
            raise UpstreamUnavailable(
                f"Les lignes facturables de {month} sont malformées "
                f"({exc.error_count()} erreur(s))."
            ) from None

    async def family(self, family_id: str) -> FamilyInfo | None:
        """One family, None when the families service does not know it."""
        path = self.settings.family_path.format(family_id=family_id)
        status, data = await self._get(path)
        if status == 404:
            return None
        if status != 200 or not isinstance(data, dict):
            raise UpstreamUnavailable(f"La famille {family_id} n'a pas pu être lue ({status}).")
        return FamilyInfo.model_validate(data)

    async def families(self, family_ids: list[str]) -> dict[str, FamilyInfo | None]:
        """Several families, a few at a time."""
        gate = asyncio.Semaphore(FAMILY_CONCURRENCY)

        async def one(family_id: str) -> tuple[str, FamilyInfo | None]:
            async with gate:
                return family_id, await self.family(family_id)

        return dict(await asyncio.gather(*(one(f) for f in family_ids)))


async def service_authorization(http: ClientSession, settings: BillingSettings) -> str:
    """A bearer header from the OAuth client of billing (for beat's monthly run)."""
    if not settings.api_client_id:
        raise UpstreamUnavailable(
            "BILLING_API_CLIENT_ID / BILLING_API_CLIENT_SECRET ne sont pas configurés : "
            "la facturation automatique ne peut pas lire les réservations."
        )
    url = settings.gateway_url.rstrip("/") + settings.token_path
    form = {
        "grant_type": "client_credentials",
        "client_id": settings.api_client_id,
        "client_secret": settings.api_client_secret,
    }
    try:
        async with http.post(url, data=form) as response:
            data = await response.json(content_type=None)
    except (ClientError, TimeoutError, ValueError) as exc:
        raise UpstreamUnavailable(f"auth : {type(exc).__name__}") from None
    if not isinstance(data, dict) or "access_token" not in data:
        raise UpstreamUnavailable("auth a refusé le client de la facturation.")
    return f"Bearer {data['access_token']}"
