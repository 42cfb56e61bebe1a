"""The bookings rules, with no HTTP in them."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.kit.outbox import record_event, utcnow

from . import events
from .config import BookingsSettings
from .errors import ActivityNameTaken
from .models import Activity, OutboxMessage, Registration
from .schemas import ActivityCreate


async def create_activity(session: AsyncSession, *, data: ActivityCreate) -> Activity:
    """Add an activity to the catalogue, with its `activity.created` event."""
    taken = await session.scalar(select(Activity.id).where(Activity.name == data.name))
    if taken is not None:
        raise ActivityNameTaken(f"An activity named {data.name!r} already exists.")
    activity = Activity(id=str(uuid.uuid4()), name=data.name, created_at=utcnow())
    session.add(activity)
    record_event(
        session,
        OutboxMessage,
        source=BookingsSettings.service_name,
        event_type=events.ACTIVITY_CREATED,
        data={"activity_id": activity.id, "name": activity.name},
    )
    await session.flush()
    return activity


async def list_activities(session: AsyncSession) -> list[Activity]:
    """The catalogue, by name."""
    return list(await session.scalars(select(Activity).order_by(Activity.name)))


async def count_registrations(session: AsyncSession, *, family_id: str) -> int:
    """How many registrations the family has, in any state."""
    statement = (
        select(func.count()).select_from(Registration).where(Registration.family_id == family_id)
    )
    return int(await session.scalar(statement) or 0)
