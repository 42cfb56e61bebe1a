"""RGPD right of access: what this service holds about one family, as one JSON file.

The family itself or staff; another family's id answers 404 like a missing one. The family's
journal, its threads with the structure (every post), its e-mail choices and the e-mails
sent to it — their metadata, never their bodies, which may hold a one-time sign-in link
(the gateway's e-mail log leaves them out for the same reason). Copies learnt from other
services' events (accounts' addresses, activities, pending requests) are exported by the
service that owns them. This service emits no event, so its export journals nothing itself;
the families and documents parts of the same download are journaled.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.kit.bodies import json_response
from services.kit.keys import DATABASE
from services.kit.openapi import operation
from services.kit.outbox import utcnow

from . import service
from .models import (
    ContactMessage,
    ContactPost,
    ContactRecipient,
    EmailPreference,
    JournalEntry,
    OutgoingEmail,
)
from .schemas import JournalEntryRead, ThreadRead
from .views import family_of
from .views_contact import thread

routes = web.RouteTableDef()


class EmailExport(BaseModel):
    """An e-mail sent (or owed) to the family: to whom, about what, when."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    template: str
    category: str
    # The address while it is one of the family's accounts' now; null once that parent left
    # the family (as the journal stops naming them): the family does not keep their address.
    recipient: str | None
    subject: str
    state: str
    created_at: datetime
    sent_at: datetime | None


class PreferenceExport(BaseModel):
    """A category of optional e-mails the family turned on or off."""

    model_config = ConfigDict(from_attributes=True)

    category: str
    enabled: bool
    updated_at: datetime


class NotificationsExport(BaseModel):
    """This service's part of a family's RGPD access export."""

    service: Literal["notifications"] = "notifications"
    family_id: str
    exported_at: datetime
    journal: list[JournalEntryRead]
    threads: list[ThreadRead]
    emails: list[EmailExport]
    email_preferences: list[PreferenceExport]


async def _threads(session: AsyncSession, family_id: str) -> list[ThreadRead]:
    """Every thread of the family with its posts, oldest first (two queries, not one each)."""
    rows = (
        await session.execute(
            select(ContactMessage, ContactRecipient)
            .join(ContactRecipient, ContactRecipient.id == ContactMessage.recipient_id)
            .where(ContactMessage.family_id == family_id)
            .order_by(ContactMessage.created_at, ContactMessage.id)
        )
    ).all()
    posts = await session.scalars(
        select(ContactPost)
        .join(ContactMessage, ContactMessage.id == ContactPost.message_id)
        .where(ContactMessage.family_id == family_id)
        .order_by(ContactPost.created_at, ContactPost.id)
    )
    by_message: dict[str, list[ContactPost]] = defaultdict(list)
    for post in posts:
        by_message[post.message_id].append(post)
    return [thread(message, recipient, by_message[message.id]) for message, recipient in rows]


@routes.get("/families/{family_id}/export")
@operation(
    "The family's data held by this service (RGPD right of access)",
    tags=("journal",),
    response=NotificationsExport,
    errors=(404,),
)
async def export_family(request: web.Request) -> web.Response:
    """GET /families/{family_id}/export: journal, threads, e-mails and e-mail choices."""
    family_id = family_of(request)
    async with request.app[DATABASE].sessions() as session:
        journal = await session.scalars(
            select(JournalEntry)
            .where(JournalEntry.family_id == family_id)
            .order_by(JournalEntry.occurred_at, JournalEntry.id)
        )
        members = await service.family_accounts(session, family_id)
        entries = [service.journal_read(e, members) for e in journal]
        threads = await _threads(session, family_id)
        emails = await session.scalars(
            select(OutgoingEmail)
            .where(OutgoingEmail.family_id == family_id)
            .order_by(OutgoingEmail.created_at, OutgoingEmail.id)
        )
        addresses = {email.casefold() for email in members.values() if email}
        sent = [
            EmailExport.model_validate(e).model_copy(
                update={} if e.recipient.casefold() in addresses else {"recipient": None}
            )
            for e in emails
        ]
        choices = await session.scalars(
            select(EmailPreference)
            .where(EmailPreference.family_id == family_id)
            .order_by(EmailPreference.category)
        )
        preferences = [PreferenceExport.model_validate(c) for c in choices]
    export = NotificationsExport(
        family_id=family_id,
        exported_at=utcnow(),
        journal=entries,
        threads=threads,
        emails=sent,
        email_preferences=preferences,
    )
    response = json_response(export)
    response.headers["Content-Disposition"] = 'attachment; filename="historique.json"'
    return response
