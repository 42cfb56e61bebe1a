"""A person's confirmed reservations as an iCalendar feed, behind a private revocable link.

The link carries a 192-bit random token; only its SHA-256 is stored, so a copy of the
database gives no working link. Making a new link revokes the previous one; revoking
leaves none. The feed holds first names and activities, nothing else.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from .errors import PersonNotFound
from .models import CONFIRMED, Activity, CalendarFeed, Registration, Reservation, Unit
from .workdays import PARIS, paris_day

FEED_PAST_DAYS = 31


def hash_token(token: str) -> str:
    """The stored form of a feed token."""
    return hashlib.sha256(token.encode()).hexdigest()


async def require_registered(
    db: AsyncSession | AsyncConnection, *, family_id: str, person_id: str
) -> None:
    """`PersonNotFound` unless the person has a registration in this family.

    Bookings keeps no list of a family's members: a registration of the person in this
    family proves the person is theirs (as for bookings). Every route naming a person asks
    this first, so another family's person answers like a missing one (the planning and
    the link's revocation too, not only the link's creation).
    """
    registered = await db.scalar(
        select(Registration.id)
        .where(Registration.family_id == family_id, Registration.person_id == person_id)
        .limit(1)
    )
    if registered is None:
        raise PersonNotFound("Cette personne n'est inscrite à aucune activité de la famille.")


async def new_feed(
    session: AsyncSession, *, family_id: str, person_id: str, now: datetime
) -> tuple[str, datetime]:
    """A fresh token for the person (the previous link stops working)."""
    await require_registered(session, family_id=family_id, person_id=person_id)
    await revoke_feeds(session, family_id=family_id, person_id=person_id, now=now)
    # 192 bits in 32 characters: short enough for the service's path-id guard.
    token = secrets.token_urlsafe(24)
    session.add(
        CalendarFeed(
            id=str(uuid.uuid4()),
            family_id=family_id,
            person_id=person_id,
            token_hash=hash_token(token),
            created_at=now,
        )
    )
    await session.flush()
    return token, now


async def revoke_feeds(
    session: AsyncSession, *, family_id: str, person_id: str, now: datetime
) -> int:
    """Revoke the person's links; how many were active."""
    done = await session.execute(
        update(CalendarFeed)
        .where(
            CalendarFeed.family_id == family_id,
            CalendarFeed.person_id == person_id,
            CalendarFeed.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .returning(CalendarFeed.id)
    )
    return len(done.all())


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


async def feed_text(session: AsyncSession, *, token: str, now: datetime) -> str | None:
    """The iCalendar text of the token's person, or None when the link is unknown or revoked."""
    feed = await session.scalar(
        select(CalendarFeed).where(
            CalendarFeed.token_hash == hash_token(token), CalendarFeed.revoked_at.is_(None)
        )
    )
    if feed is None:
        return None
    since = paris_day(now) - timedelta(days=FEED_PAST_DAYS)
    rows = (
        await session.execute(
            select(
                Reservation.id,
                Reservation.day,
                Reservation.person_name,
                Activity.name,
                Unit.label,
                Unit.starts_at,
                Unit.ends_at,
            )
            .join(Activity, Activity.id == Reservation.activity_id)
            .join(Unit, Unit.id == Reservation.unit_id)
            .where(
                Reservation.family_id == feed.family_id,
                Reservation.person_id == feed.person_id,
                Reservation.state == CONFIRMED,
                Reservation.day >= since,
            )
            .order_by(Reservation.day, Unit.starts_at)
        )
    ).all()
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Portail Famille//Reservations//FR",
        "CALSCALE:GREGORIAN",
        "X-WR-CALNAME:Réservations",
    ]
    stamp = _stamp(now)
    for rid, day, person, activity, label, starts, ends in rows:
        lines += ["BEGIN:VEVENT", f"UID:{rid}@portail-famille", f"DTSTAMP:{stamp}"]
        if starts and ends:
            lines += [f"DTSTART:{_stamp(_at(day, starts))}", f"DTEND:{_stamp(_at(day, ends))}"]
        else:
            following = day + timedelta(days=1)
            lines += [
                f"DTSTART;VALUE=DATE:{day.strftime('%Y%m%d')}",
                f"DTEND;VALUE=DATE:{following.strftime('%Y%m%d')}",
            ]
        lines += [f"SUMMARY:{_escape(f'{person} — {activity} ({label})')}", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


def _at(day: date, moment: time) -> datetime:
    return datetime.combine(day, moment, tzinfo=PARIS)
