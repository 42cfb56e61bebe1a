"""Demo data of the families service: the manual's family TEST (for `portail seed`)."""

from __future__ import annotations

from portail.demo import DEMO_FAMILY_ID, DEMO_FAMILY_NAME
from services.kit.database import Database
from services.kit.outbox import utcnow

from .models import Family


async def seed_demo(database: Database) -> None:
    """Create the family TEST under its well-known id, once (idempotent)."""
    async with database.transaction() as session:
        if await session.get(Family, DEMO_FAMILY_ID) is None:
            # No `family.created` event: demo data is a starting point, not something that
            # happened, and the other services seed their part from the same ids.
            now = utcnow()
            # Timestamps the model has (the table grows with the families issue).
            stamps = {name: now for name in ("created_at", "updated_at") if hasattr(Family, name)}
            session.add(Family(id=DEMO_FAMILY_ID, name=DEMO_FAMILY_NAME, **stamps))
