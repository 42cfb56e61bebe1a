"""The bookings rules, with no HTTP in them, one module per concern.

- `catalogue.py`: activities, their rules, groups, units, periods, closures;
- `openings.py`: openings made in bulk and edited one by one;
- `notice_rules.py`: until when a day may be booked or cancelled;
- `places.py`: registration places taken without overbooking;
- `registrations.py`: requests, checks, decisions, cancellations;
- `upstream.py`: what we ask families and documents through the gateway.

This module keeps what the dashboard shows.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from .registrations import count_accepted, count_pending


async def dashboard_tile(session: AsyncSession, *, family_id: str) -> dict[str, int]:
    """The "MES INSCRIPTIONS" tile: `count` is the requests waiting for staff.

    Pending requests are what a parent needs to notice; accepted ones are given beside.
    """
    pending = await count_pending(session, family_id=family_id)
    accepted = await count_accepted(session, family_id=family_id)
    return {"count": pending, "pending": pending, "accepted": accepted}
