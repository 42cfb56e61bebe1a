"""Driving the consumer and the sender as the worker does, on the real database and SMTP."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from services.kit.database import Database
from services.notifications.config import NotificationsSettings
from services.notifications.models import OutgoingEmail
from services.notifications.sending import SendOutcome, send_email
from services.notifications.service import Delivery, handle_event
from services.notifications.smtp import SmtpSender


async def deliver(database: Database, settings: NotificationsSettings, raw: Any) -> Delivery:
    """One delivery in its own transaction, as the `events.deliver` task does it."""
    async with database.transaction() as session:
        return await handle_event(session, raw=raw, settings=settings)


async def send_one(
    database: Database, settings: NotificationsSettings, sender: SmtpSender, email_id: str
) -> SendOutcome:
    """One `email.send` task."""
    async with database.transaction() as session:
        return await send_email(session, settings, sender, email_id)


async def send_pending(database: Database, settings: NotificationsSettings) -> list[SendOutcome]:
    """Send every pending e-mail once, over one connection, as one worker process would."""
    async with database.sessions() as session:
        ids = list(
            await session.scalars(
                select(OutgoingEmail.id)
                .where(OutgoingEmail.state == "pending")
                .order_by(OutgoingEmail.created_at)
            )
        )
    sender = SmtpSender(settings)
    try:
        return [await send_one(database, settings, sender, i) for i in ids]
    finally:
        await sender.close()


async def emails(database: Database, **where: Any) -> list[OutgoingEmail]:
    """The e-mail rows matching `where` (column = value)."""
    query = select(OutgoingEmail).order_by(OutgoingEmail.created_at, OutgoingEmail.position)
    for name, value in where.items():
        query = query.where(getattr(OutgoingEmail, name) == value)
    async with database.sessions() as session:
        return list(await session.scalars(query))
