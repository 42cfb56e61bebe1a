"""The families rules, with no HTTP in them."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.kit.outbox import record_event, utcnow

from . import events
from .config import FamiliesSettings
from .errors import FamilyNotFound
from .models import Family, OutboxMessage, Person
from .schemas import FamilyCreate


async def create_family(session: AsyncSession, *, data: FamilyCreate) -> Family:
    """Create a family and its `family.created` event in the caller's transaction."""
    family = Family(id=str(uuid.uuid4()), name=data.name, created_at=utcnow())
    session.add(family)
    record_event(
        session,
        OutboxMessage,
        source=FamiliesSettings.service_name,
        event_type=events.FAMILY_CREATED,
        data={"family_id": family.id, "name": family.name},
        family_id=family.id,
    )
    await session.flush()
    return family


async def get_family(session: AsyncSession, *, family_id: str) -> Family:
    """The family with this id, or `FamilyNotFound`."""
    family = await session.get(Family, family_id)
    if family is None:
        raise FamilyNotFound("No such family.")
    return family


async def count_persons(session: AsyncSession, *, family_id: str) -> int:
    """How many persons the family has."""
    statement = select(func.count()).select_from(Person).where(Person.family_id == family_id)
    return int(await session.scalar(statement) or 0)
