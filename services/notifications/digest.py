"""The staff digest: how many family requests wait for a decision, once a day."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.kit.outbox import utcnow

from .config import NotificationsSettings
from .emails import PARIS
from .models import OutgoingEmail, PendingRequest
from .outgoing import EMAIL_NAMESPACE, add_email, portal_link

KIND_LABELS = {
    "famille": "Modifications de famille",
    "inscription": "Demandes d'inscription",
    "reservation": "Demandes de réservation",
    "document": "Documents à valider",
}


@dataclass(frozen=True)
class Waiting:
    """How many requests of one kind wait for staff, and since when the oldest."""

    kind: str
    count: int
    oldest: datetime | str


async def waiting_by_kind(session: AsyncSession) -> list[Waiting]:
    """The pending requests counted per kind (kinds with none left out): the digest's lines,
    and the figures of the staff home page (`GET /staff/waiting`)."""
    rows = (
        await session.execute(
            select(PendingRequest.kind, func.count(), func.min(PendingRequest.requested_at))
            .group_by(PendingRequest.kind)
            .order_by(PendingRequest.kind)
        )
    ).all()
    return [Waiting(kind, int(count), oldest) for kind, count, oldest in rows]


async def owe_digest(
    session: AsyncSession, settings: NotificationsSettings, *, today: datetime | None = None
) -> list[str]:
    """Add today's digest e-mails (once per day: the source is the day); returns their ids."""
    recipients = sorted({a.strip() for a in settings.digest_recipients.split(",") if a.strip()})
    if not recipients:
        return []
    rows = await waiting_by_kind(session)
    total = sum(row.count for row in rows)
    if total == 0:
        return []
    day = (today or utcnow()).astimezone(PARIS).date()
    source_id = str(uuid.uuid5(EMAIL_NAMESPACE, f"digest:{day.isoformat()}"))
    if await session.scalar(select(OutgoingEmail.id).where(OutgoingEmail.source_id == source_id)):
        return []  # beat ran twice today
    data = {
        "total": total,
        "lines": [
            {
                "label": KIND_LABELS.get(row.kind, row.kind),
                "count": row.count,
                "oldest": _day(row.oldest),
            }
            for row in rows
        ],
    }
    return [
        add_email(
            session,
            settings,
            source_id=source_id,
            position=position,
            template="staff_digest",
            category="obligatoire",
            recipient=address,
            data=data,
            link=portal_link(settings, "/"),
        ).id
        for position, address in enumerate(recipients)
    ]


def _day(moment: datetime | str) -> str:
    # SQLite's min() of a timestamp column comes back as text; PostgreSQL's as a datetime.
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(PARIS).strftime("%d/%m/%Y")
