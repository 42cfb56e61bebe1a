"""Contacter la structure: recipients, threads, posts, and the e-mails each of them owes.

Everything runs in the caller's transaction; the e-mails are rows (outgoing.py) that the
relay enqueues: a request handler never talks to the broker or to SMTP.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.kit.outbox import utcnow
from services.kit.problems import NotFound, ValidationFailed

from .config import NotificationsSettings
from .events import MANDATORY
from .models import (
    AccountAddress,
    AccountFamily,
    ContactMessage,
    ContactPost,
    ContactRecipient,
    JournalEntry,
)
from .outgoing import add_email, portal_link, wants


class UnknownRecipient(ValidationFailed):
    """The chosen recipient does not exist (or no longer receives messages)."""

    slug = "unknown-recipient"


async def list_recipients(
    session: AsyncSession, *, include_inactive: bool = False
) -> list[ContactRecipient]:
    """Recipients in the order staff chose."""
    query = select(ContactRecipient).order_by(ContactRecipient.position, ContactRecipient.name)
    if not include_inactive:
        query = query.where(ContactRecipient.active.is_(True))
    return list(await session.scalars(query))


async def save_recipient(
    session: AsyncSession,
    *,
    recipient_id: str | None,
    name: str,
    email: str,
    active: bool,
    position: int,
) -> ContactRecipient:
    """Create a recipient, or change one (404 when `recipient_id` is unknown)."""
    if recipient_id is None:
        recipient = ContactRecipient(id=str(uuid.uuid4()), created_at=utcnow())
        session.add(recipient)
    else:
        found = await session.get(ContactRecipient, recipient_id)
        if found is None:
            raise NotFound("No such recipient.")
        recipient = found
    recipient.name, recipient.email = name, email
    recipient.active, recipient.position = active, position
    await session.flush()
    return recipient


def check_sizes(settings: NotificationsSettings, *, subject: str | None, body: str) -> None:
    """422 with the fields over the configured limits."""
    errors = []
    if subject is not None and len(subject) > settings.contact_subject_max:
        errors.append(
            {"field": "subject", "message": f"At most {settings.contact_subject_max} characters."}
        )
    if len(body) > settings.contact_body_max:
        errors.append(
            {"field": "body", "message": f"At most {settings.contact_body_max} characters."}
        )
    if errors:
        raise ValidationFailed("The message is too long.", errors=errors)


async def active_recipient(session: AsyncSession, recipient_id: str) -> ContactRecipient:
    """The recipient a family chose, or a clear 422 (a forged id sends nothing)."""
    recipient = await session.get(ContactRecipient, recipient_id[:36])
    if recipient is None or not recipient.active:
        raise UnknownRecipient(
            "This recipient does not exist; choose one from the list.",
            errors=[{"field": "recipient_id", "message": "Unknown recipient."}],
        )
    return recipient


async def create_message(
    session: AsyncSession,
    settings: NotificationsSettings,
    *,
    family_id: str,
    account_id: str,
    recipient: ContactRecipient,
    subject: str,
    body: str,
    family_name: str | None = None,
) -> ContactMessage:
    """Store the thread and its first post; owe the e-mail to the recipient and the receipt.

    `family_name` is the families service's name of the family (None when it could not be
    read): the recipient's e-mail names the family by it, and by the writer's address."""
    now = utcnow()
    message = ContactMessage(
        id=str(uuid.uuid4()),
        family_id=family_id,
        account_id=account_id,
        recipient_id=recipient.id,
        subject=subject,
        state="open",
        created_at=now,
        last_activity_at=now,
    )
    session.add(message)
    post = _post(message.id, "family", account_id, body, now)
    session.add(post)
    await session.flush()
    session.add(_journal_line(message, recipient, post))
    sender = await session.get(AccountAddress, account_id)
    data = {
        "subject": subject,
        "body": body,
        "recipient_name": recipient.name,
        **writer(family_name, sender),
    }
    add_email(
        session,
        settings,
        sent_by_writer=False,  # an HTTP request: the relay enqueues it
        source_id=message.id,
        position=0,
        template="contact_new_message",
        category=MANDATORY,
        recipient=recipient.email,
        data=data,
        link=portal_link(settings, f"/agents/messages/{message.id}"),
    )
    if (
        sender is not None
        and sender.email
        and not sender.disabled
        and await wants(session, family_id, "accuses")
    ):
        add_email(
            session,
            settings,
            sent_by_writer=False,
            source_id=message.id,
            position=1,
            template="contact_acknowledged",
            category="accuses",
            recipient=sender.email,
            family_id=family_id,
            language=sender.language,
            data=data,
            link=portal_link(settings, f"/contact/{message.id}"),
        )
    return message


def writer(family_name: str | None, sender: AccountAddress | None) -> dict[str, str]:
    """How the staff e-mail names who wrote: the family's name and the writer's address, each
    empty when unknown (the template then says « une famille »)."""
    return {
        "family_name": family_name or "",
        "sender_email": sender.email if sender is not None and sender.email else "",
    }


# The journal lines of « Contacter la structure »: no event carries them (the messages live
# here), so they are written with the post. Subject and recipient only, never the body.
MESSAGE_SENT = "contact.message_sent"
REPLIED = "contact.replied"


def _journal_line(
    message: ContactMessage, recipient: ContactRecipient, post: ContactPost
) -> JournalEntry:
    by_staff = post.author_role == "staff"
    return JournalEntry(
        id=str(uuid.uuid4()),
        event_id=post.id,
        family_id=message.family_id,
        account_id=None if by_staff else post.author_id,
        event_type=REPLIED if by_staff else MESSAGE_SENT,
        occurred_at=post.created_at,
        summary={"subject": message.subject, "recipient_name": recipient.name},
        actor_id=post.author_id[:64],
        actor_role="staff" if by_staff else "family",
    )


def _post(message_id: str, role: str, author: str, body: str, now: object) -> ContactPost:
    return ContactPost(
        id=str(uuid.uuid4()),
        message_id=message_id,
        author_role=role,
        author_id=author,
        body=body,
        created_at=now,
    )


async def get_thread(
    session: AsyncSession, message_id: str, *, family_ids: frozenset[str] | None
) -> tuple[ContactMessage, ContactRecipient, list[ContactPost]]:
    """A thread and its posts; `family_ids` None for staff, else the caller's families (404)."""
    message = await session.get(ContactMessage, message_id[:36])
    if message is None or (family_ids is not None and message.family_id not in family_ids):
        raise NotFound("No such message.")
    recipient = await session.get(ContactRecipient, message.recipient_id)
    assert recipient is not None  # foreign key
    posts = await session.scalars(
        select(ContactPost)
        .where(ContactPost.message_id == message.id)
        .order_by(ContactPost.created_at, ContactPost.id)
    )
    return message, recipient, list(posts)


async def reply(
    session: AsyncSession,
    settings: NotificationsSettings,
    *,
    message: ContactMessage,
    recipient: ContactRecipient,
    role: str,
    author_id: str,
    body: str,
    family_name: str | None = None,
) -> ContactPost:
    """Add a post; staff's reaches the family by e-mail, the family's reaches the recipient
    (named by `family_name`, as for a new message)."""
    now = utcnow()
    post = _post(message.id, role, author_id, body, now)
    session.add(post)
    message.last_activity_at = now
    message.state = "answered" if role == "staff" else "open"
    await session.flush()
    session.add(_journal_line(message, recipient, post))
    data = {"subject": message.subject, "body": body, "recipient_name": recipient.name}
    if role == "staff":
        for position, (address, language) in enumerate(
            await family_addresses(session, message.family_id)
        ):
            add_email(
                session,
                settings,
                sent_by_writer=False,
                source_id=post.id,
                position=position,
                template="contact_reply",
                category=MANDATORY,
                recipient=address,
                family_id=message.family_id,
                language=language,
                data=data,
                link=portal_link(settings, f"/contact/{message.id}"),
            )
    else:
        sender = await session.get(AccountAddress, author_id)
        add_email(
            session,
            settings,
            sent_by_writer=False,
            source_id=post.id,
            position=0,
            template="contact_new_message",
            category=MANDATORY,
            recipient=recipient.email,
            data={**data, **writer(family_name, sender)},
            link=portal_link(settings, f"/agents/messages/{message.id}"),
        )
    return post


async def family_addresses(session: AsyncSession, family_id: str) -> list[tuple[str, str]]:
    """(address, language) of the family's known, enabled accounts, sorted by address."""
    rows = await session.scalars(
        select(AccountAddress)
        .join(AccountFamily, AccountFamily.account_id == AccountAddress.account_id)
        .where(AccountFamily.family_id == family_id, AccountAddress.disabled.is_(False))
    )
    return sorted({r.email: r.language for r in rows if r.email}.items())


async def list_messages(
    session: AsyncSession,
    *,
    family_id: str | None,
    state: str | None,
    page: int,
    page_size: int,
) -> tuple[Sequence[tuple[ContactMessage, str]], int]:
    """Threads newest activity first, with their recipient's name; one family's, or all (staff)."""
    conditions = []
    if family_id is not None:
        conditions.append(ContactMessage.family_id == family_id)
    if state is not None:
        conditions.append(ContactMessage.state == state)
    total = await session.scalar(
        select(func.count()).select_from(ContactMessage).where(*conditions)
    )
    rows = await session.execute(
        select(ContactMessage, ContactRecipient.name)
        .join(ContactRecipient, ContactRecipient.id == ContactMessage.recipient_id)
        .where(*conditions)
        .order_by(ContactMessage.last_activity_at.desc(), ContactMessage.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    return [(m, name) for m, name in rows.all()], int(total or 0)


async def count_family_messages(session: AsyncSession, family_id: str) -> int:
    """How many threads a family has."""
    total = await session.scalar(
        select(func.count())
        .select_from(ContactMessage)
        .where(ContactMessage.family_id == family_id)
    )
    return int(total or 0)


async def count_unanswered(session: AsyncSession) -> int:
    """How many threads wait for staff: the family wrote last (`open`)."""
    total = await session.scalar(
        select(func.count()).select_from(ContactMessage).where(ContactMessage.state == "open")
    )
    return int(total or 0)
