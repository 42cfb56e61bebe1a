"""Demo data of the dev profile: the manual's two contact recipients and its news (idempotent).

The news is dated from the day it is first seeded, so the demo's dashboard looks current: it
announces the registration window of the demo's next holidays, the days bookings' seed opens
and closes them (`portail.demo.holidays_registration_window`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from portail.demo import DEMO_CONTACT_RECIPIENTS, holidays_registration_window, next_holidays
from services.kit.database import Database
from services.kit.outbox import utcnow

from .models import ContactRecipient, News

# Fixed ids: seeding twice finds them and adds nothing (the news kept its first name).
DEMO_NAMESPACE = uuid.UUID("0b6a8c52-55c4-4c0e-9a3f-1d2f8e7d0c01")
DEMO_NEWS_ID = str(uuid.uuid5(DEMO_NAMESPACE, "news:alsh-printemps"))
DEMO_NEWS_TITLE = "Inscriptions ALSH Josta Leku"
PARIS = ZoneInfo("Europe/Paris")
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")  # fmt: skip


def french_day(day: date, *, year: bool = False) -> str:
    """`lundi 23 novembre`, `jeudi 1er avril` (with its year when asked)."""
    number = "1er" if day.day == 1 else str(day.day)
    said = f"{WEEKDAYS[day.weekday()]} {number} {MONTHS[day.month - 1]}"
    return f"{said} {day.year}" if year else said


def demo_news_text(today: date) -> str:
    """The manual's news: the registration window of the holidays' period that bookings' seed
    opens on `today` (the same days and the period's name, from `portail.demo`)."""
    start, end = holidays_registration_window(today)
    name = next_holidays(today).name
    return (
        f"Les inscriptions aux {name[0].lower()}{name[1:]} à l'ALSH Josta Leku sont du "
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
    start, _ = holidays_registration_window(today)
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
