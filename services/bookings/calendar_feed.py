"""A person's confirmed reservations as an iCalendar feed, behind a private revocable link.

The link carries a 192-bit random token; only its SHA-256 is stored, so a copy of the
database gives no working link. Making a new link revokes the previous one; revoking
leaves none; the link also dies when the account that made it is disabled or removed from
the family, or the family archived (`lapsed`). The feed holds first names and activities,
nothing else.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, date, datetime, time, timedelta

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.kit.lapse_marks import ACCOUNTS, FAMILIES, MEMBERSHIPS, latest, membership
from services.kit.outbox import utcnow
from services.kit.problems import ServiceUnavailable, Unauthenticated

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
    session: AsyncSession,
    redis: Redis,
    *,
    family_id: str,
    person_id: str,
    account_id: str,
    authorized_at: float | None,
) -> tuple[str, datetime]:
    """A fresh token for the person, made by `account_id` (the previous link stops working)
    on the strength of a token signed at `authorized_at` (its `iat`).

    Dated by the wall clock, not the service's clock: the link dies when its account's or
    family's lapse mark (auth's, families') is later than its making. An access token lives
    on for minutes after such a lapse: one signed before it (or without a date) makes no link
    — a link dated after the mark would outlive the lapse (Unauthenticated)."""
    await require_registered(session, family_id=family_id, person_id=person_id)
    since = await _lapse_of(redis, _keys(family_id, account_id))
    if since is not None and (authorized_at is None or since.timestamp() >= authorized_at):
        raise Unauthenticated("Votre session n'est plus valable : reconnectez-vous.")
    now = utcnow()
    await revoke_feeds(session, family_id=family_id, person_id=person_id, now=now)
    # 192 bits in 32 characters: short enough for the service's path-id guard.
    token = secrets.token_urlsafe(24)
    session.add(
        CalendarFeed(
            id=str(uuid.uuid4()),
            family_id=family_id,
            person_id=person_id,
            token_hash=hash_token(token),
            account_id=account_id,
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


async def lapsed(redis: Redis, feed: CalendarFeed) -> bool:
    """Whether the account that made the link was disabled or removed from the family, or the
    family archived, since the link was made.

    Auth and families own those states; they mark them in the shared Redis
    (kit/lapse_marks.py), one MGET here. Redis out of reach is a 503: a link of a disabled
    account must not be served for want of asking."""
    since = await _lapse_of(redis, _keys(feed.family_id, feed.account_id))
    return since is not None and since >= feed.created_at


def _keys(family_id: str, account_id: str | None) -> list[str]:
    """The lapse marks a link of `family_id` made by `account_id` dies with."""
    keys = [FAMILIES.key(family_id)]
    if account_id is not None:
        keys.append(ACCOUNTS.key(account_id))
        keys.append(MEMBERSHIPS.key(membership(account_id, family_id)))
    return keys


async def _lapse_of(redis: Redis, keys: list[str]) -> datetime | None:
    """The latest of `keys`' marks; Redis out of reach is a 503 (a lapse must not be missed
    for want of asking)."""
    try:
        return await latest(redis, keys)
    except (RedisError, OSError):
        raise ServiceUnavailable(
            "Le calendrier est momentanément indisponible.", headers={"Retry-After": "60"}
        ) from None


async def feed_text(
    session: AsyncSession, redis: Redis, *, token: str, now: datetime
) -> str | None:
    """The iCalendar text of the token's person, or None when the link is unknown, revoked,
    or lapsed with its account or family."""
    feed = await session.scalar(
        select(CalendarFeed).where(
            CalendarFeed.token_hash == hash_token(token), CalendarFeed.revoked_at.is_(None)
        )
    )
    if feed is None or await lapsed(redis, feed):
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
