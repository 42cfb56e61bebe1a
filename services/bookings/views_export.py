"""RGPD right of access: everything this service holds about one family, as one JSON file.

The family itself or staff; another family's id answers 404 like a missing one. Bookings
journals no read access (its data is not sensitive), so this export emits no event: the
families service's part of the same download journals it (`family.exported`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from aiohttp import web
from pydantic import BaseModel
from sqlalchemy import select

from services.kit.identity import require_family
from services.kit.keys import DATABASE
from services.kit.openapi import operation
from services.kit.outbox import utcnow

from .attendance import reservation_read, reservation_rows
from .models import CalendarFeed, Registration, Reservation
from .registrations import registration_rows, registration_view
from .schemas import RegistrationRead
from .schemas_reservations import ReservationRead
from .views_registrations import registration_read

routes = web.RouteTableDef()


class CalendarFeedExport(BaseModel):
    """A private calendar link of the family (its secret token is never exported)."""

    id: str
    person_id: str
    created_at: datetime
    revoked_at: datetime | None


class BookingsExport(BaseModel):
    """This service's part of a family's RGPD access export."""

    service: Literal["bookings"] = "bookings"
    family_id: str
    exported_at: datetime
    registrations: list[RegistrationRead]
    # Attendance is the `attendance` of each reservation (present, absent…).
    reservations: list[ReservationRead]
    calendar_feeds: list[CalendarFeedExport]


@routes.get("/families/{family_id}/export")
@operation(
    "The family's data held by this service (RGPD right of access)",
    tags=("family",),
    response=BookingsExport,
    errors=(404,),
)
async def export_family(request: web.Request) -> web.Response:
    """GET /families/{family_id}/export: the family's registrations, reservations, feeds."""
    family_id = request.match_info["family_id"]
    require_family(request, family_id)
    # The same joined reads as the lists, without their page limits: an export is whole.
    async with request.app[DATABASE].sessions() as session:
        registrations = await session.execute(
            registration_rows()
            .where(Registration.family_id == family_id)
            .order_by(Registration.created_at, Registration.id)
        )
        reservations = await session.execute(
            reservation_rows()
            .where(Reservation.family_id == family_id)
            .order_by(Reservation.day, Reservation.id)
        )
        feeds = await session.scalars(
            select(CalendarFeed)
            .where(CalendarFeed.family_id == family_id)
            .order_by(CalendarFeed.created_at)
        )
    export = BookingsExport(
        family_id=family_id,
        exported_at=utcnow(),
        registrations=[registration_read(registration_view(row)) for row in registrations.all()],
        reservations=[reservation_read(row) for row in reservations.all()],
        calendar_feeds=[CalendarFeedExport.model_validate(f, from_attributes=True) for f in feeds],
    )
    return web.Response(
        text=export.model_dump_json(),
        content_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="reservations.json"'},
    )
