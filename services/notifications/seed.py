"""Demo data of the dev profile: the manual's two contact recipients and its news (idempotent)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from portail.demo import DEMO_CONTACT_RECIPIENTS
from services.kit.database import Database
from services.kit.outbox import utcnow

from .models import ContactRecipient, News

# Fixed ids: seeding twice finds them and adds nothing.
DEMO_NAMESPACE = uuid.UUID("0b6a8c52-55c4-4c0e-9a3f-1d2f8e7d0c01")
DEMO_NEWS_ID = str(uuid.uuid5(DEMO_NAMESPACE, "news:alsh-printemps"))
DEMO_NEWS_TITLE = "Inscriptions ALSH Josta Leku"
DEMO_NEWS_TEXT = (
    "Les inscriptions aux vacances d'avril/mai/juin/juillet 2023 à l'ALSH Josta Leku "
    "sont du lundi 27 mars au jeudi 6 avril via votre Espace Famille."
)


def recipient_id(name: str) -> str:
    """The demo id of a recipient, from its name."""
    return str(uuid.uuid5(DEMO_NAMESPACE, f"recipient:{name}"))


async def seed_demo(database: Database) -> None:
    """Add what is missing of the demo recipients and news."""
    now = utcnow()
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
                    text=DEMO_NEWS_TEXT,
                    # Shown from the first run on, with no end: the demo is not dated.
                    visible_from=datetime(2023, 3, 1, tzinfo=UTC),
                    visible_until=None,
                    activity_id=None,
                    created_at=now,
                    created_by="seed",
                )
            )
