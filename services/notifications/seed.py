"""Demo data of the dev profile: the manual's two contact recipients and its news (idempotent).

The news is dated from the day it is first seeded, so the demo's dashboard looks current:
registrations open from the Monday of that week to the Thursday of the next.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from portail.demo import DEMO_CONTACT_RECIPIENTS
from services.kit.database import Database
from services.kit.outbox import utcnow

from .models import ContactRecipient, News

# Fixed ids: seeding twice finds them and adds nothing.
DEMO_NAMESPACE = uuid.UUID("0b6a8c52-55c4-4c0e-9a3f-1d2f8e7d0c01")
DEMO_NEWS_ID = str(uuid.uuid5(DEMO_NAMESPACE, "news:alsh-printemps"))
DEMO_NEWS_TITLE = "Inscriptions ALSH Josta Leku"
PARIS = ZoneInfo("Europe/Paris")
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")  # fmt: skip


def registration_window(today: date) -> tuple[date, date]:
    """The demo's registrations: Monday of `today`'s week to Thursday of the next (10 days,
    as in the manual's « du lundi 27 mars au jeudi 6 avril »)."""
    monday = today - timedelta(days=today.weekday())
    return monday, monday + timedelta(days=10)


def french_day(day: date, *, year: bool = False) -> str:
    """`lundi 23 novembre` (with its year when asked)."""
    said = f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]}"
    return f"{said} {day.year}" if year else said


def demo_news_text(today: date) -> str:
    """The manual's news, for the registration window around `today`."""
    start, end = registration_window(today)
    return (
        "Les inscriptions aux prochaines vacances à l'ALSH Josta Leku sont du "
        f"{french_day(start, year=start.year != end.year)} au {french_day(end, year=True)} "
        "via votre Espace Famille."
    )


def recipient_id(name: str) -> str:
    """The demo id of a recipient, from its name."""
    return str(uuid.uuid5(DEMO_NAMESPACE, f"recipient:{name}"))


async def seed_demo(database: Database, *, today: date | None = None) -> None:
    """Add what is missing of the demo recipients and news (the news dated from `today`,
    Paris's by default; a news seeded on an earlier day is kept as it is)."""
    now = utcnow()
    today = today or paris_today()
    start, _ = registration_window(today)
    async with database.transaction() as session:
        for position, (name, email) in enumerate(DEMO_CONTACT_RECIPIENTS):
            if await session.get(ContactRecipient, recipient_id(name)) is None:
                session.add(
                    ContactRecipient(
                        id=recipient_id(name),
                        name=name,
                        email=email,
                        active=True,
                        position=position,
                        created_at=now,
                    )
                )
        if await session.get(News, DEMO_NEWS_ID) is None:
            session.add(
                News(
                    id=DEMO_NEWS_ID,
                    title=DEMO_NEWS_TITLE,
                    text=demo_news_text(today),
                    # Announced a week before registrations open, with no end.
                    visible_from=datetime.combine(
                        start - timedelta(days=7), datetime.min.time(), PARIS
                    ).astimezone(UTC),
                    visible_until=None,
                    activity_id=None,
                    created_at=now,
                    created_by="seed",
                )
            )


def paris_today() -> date:
    """Today in Paris: the demo's dates are Paris's."""
    return datetime.now(PARIS).date()


# The text a seed run today writes (what tests compare pages and exports with).
DEMO_NEWS_TEXT = demo_news_text(paris_today())
