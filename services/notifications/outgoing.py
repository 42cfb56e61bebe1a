"""E-mails owed: which events call for which e-mail, to whom, and the rows that remember them.

Everything here runs in the caller's transaction: the consumer's (the same one that claims
the event id and writes the journal line) or a contact request's. Sending is elsewhere
(`sending.py`, on the `email` queue): a row written here is an e-mail that will leave.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import structlog
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.kit.outbox import utcnow
from services.kit.problems import Conflict, NotFound, ValidationFailed

from .config import NotificationsSettings
from .emails import render
from .events import (
    MAILERS,
    MANDATORY,
    OPTIONAL_CATEGORIES,
    PENDING_REQUESTS,
    EventEnvelope,
    MailRule,
)
from .models import (
    AccountAddress,
    AccountFamily,
    EmailPreference,
    FamilyActivity,
    OutgoingEmail,
    PendingRequest,
)

log = structlog.get_logger(__name__)
# Fixed namespace: the id of an e-mail is a function of its source and rank, nothing random.
EMAIL_NAMESPACE = uuid.UUID("6f1f5a52-4a43-4b47-9a1e-2f3c3e0a5e11")


def message_id_for(source_id: str, position: int, domain: str) -> str:
    """The `Message-ID` of the e-mail number `position` caused by `source_id` (an event id…)."""
    return f"<{source_id}.{position}@{domain}>"


def add_email(
    session: AsyncSession,
    settings: NotificationsSettings,
    *,
    source_id: str,
    position: int,
    template: str,
    category: str,
    recipient: str,
    family_id: str | None = None,
    language: str = "fr",
    data: dict[str, Any] | None = None,
    link: str | None = None,
    occurred_at: datetime | None = None,
    sent_by_writer: bool = True,
) -> OutgoingEmail:
    """Render an e-mail and add its row, pending, in the caller's transaction.

    `sent_by_writer`: the writer sends or enqueues the e-mail itself once committed (the
    consumer, beat's digest); otherwise (an HTTP request, which never talks to the broker)
    the relay enqueues it at its next pass.
    """
    rendered = render(
        template,
        settings=settings,
        language=language,
        data=data,
        link=link_in_language(link, language) if link else None,
        occurred_at=occurred_at,
    )
    now = utcnow()
    email = OutgoingEmail(
        id=str(uuid.uuid5(EMAIL_NAMESPACE, f"{source_id}.{position}")),
        source_id=source_id,
        position=position,
        message_id=message_id_for(source_id, position, settings.mail_domain),
        template=template,
        category=category,
        family_id=family_id,
        recipient=recipient,
        language=rendered.language,
        subject=rendered.subject[:300],
        text_body=rendered.text,
        html_body=rendered.html,
        state="pending",
        attempts=0,
        created_at=now,
        next_attempt_at=now,
        # Set: the relay leaves the row to its writer for `email_requeue_after_seconds`,
        # then enqueues it again if still pending. None: the relay's next pass enqueues it.
        enqueued_at=now if sent_by_writer else None,
    )
    session.add(email)
    return email


def portal_link(settings: NotificationsSettings, path: str) -> str:
    """An absolute link to a portal page, from the configured base URL (never a Host header)."""
    return settings.public_base_url.rstrip("/") + path


def link_in_language(link: str, language: str) -> str:
    """`link` opening the portal in the account's English (`?lang=en`): the pages follow the
    browser's `lang` cookie, which a browser that never chose English does not have. French,
    the portal's default, needs nothing."""
    if language != "en":
        return link
    parts = urlsplit(link)
    query = f"{parts.query}&lang=en" if parts.query else "lang=en"
    return urlunsplit(parts._replace(query=query))


async def emails_for_event(
    session: AsyncSession, settings: NotificationsSettings, event: EventEnvelope
) -> list[OutgoingEmail]:
    """Add the e-mails `event` calls for (none for most events); returns the new rows."""
    rule = MAILERS.get(event.type)
    if rule is None or (rule.only_if and event.data.get(rule.only_if) is not True):
        return []
    family_id = event.family_id or _str(event.data.get("family_id"))
    if (
        rule.category != MANDATORY
        and family_id
        and not await wants(session, family_id, rule.category)
    ):
        return []
    recipients = await _recipients(session, rule, event, family_id)
    if not recipients:
        log.warning("email_without_recipient", event_type=event.type, event_id=event.id)
        return []
    link = _link(settings, rule, event)
    return [
        add_email(
            session,
            settings,
            source_id=event.id,
            position=position,
            template=rule.template,
            category=rule.category,
            recipient=address,
            family_id=family_id,
            language=language,
            data=event.data,
            link=link,
            occurred_at=event.occurred_at,
        )
        for position, (address, language) in enumerate(recipients)
    ]


def _link(settings: NotificationsSettings, rule: MailRule, event: EventEnvelope) -> str:
    # An invitation or a reset carries its own link (built by auth from the same base URL).
    own = event.data.get("link")
    if rule.audience == "event_address" and isinstance(own, str) and own.startswith("http"):
        return own
    return portal_link(settings, rule.path)


async def _recipients(
    session: AsyncSession, rule: MailRule, event: EventEnvelope, family_id: str | None
) -> list[tuple[str, str]]:
    """(address, language) pairs, sorted by address so that positions are stable."""
    language = _str(event.data.get("language")) or None
    if rule.audience == "event_address":
        address = _str(event.data.get("email"))
        if not address:
            return []
        if language is None:
            known = await _address_of(session, _str(event.data.get("account_id")))
            language = known.language if known else "fr"
        return [(address, language)]
    if rule.audience == "account":
        known = await _address_of(session, _str(event.data.get("account_id")))
        if known is None or not known.email or known.disabled:
            return []
        return [(known.email, language or known.language)]
    if not family_id:
        return []
    rows = (
        await session.scalars(
            select(AccountAddress)
            .join(AccountFamily, AccountFamily.account_id == AccountAddress.account_id)
            .where(AccountFamily.family_id == family_id)
            .where(AccountAddress.email.is_not(None), AccountAddress.disabled.is_(False))
        )
    ).all()
    unique = {row.email: row.language for row in rows if row.email}
    return sorted(unique.items())


# `session.info` key: the address rows this transaction knows, by account id — read ahead for
# a batch (`read_addresses`) or learnt from one of its events; None: known to be absent.
ADDRESS_BOOK = "notifications.address_book"


async def read_addresses(session: AsyncSession, account_ids: Sequence[str]) -> None:
    """Read the address rows of `account_ids` in one statement, for the lookups that follow.

    A batch of events would otherwise read each account's row on its own (a round trip per
    event); a row learnt later in the transaction replaces its entry (`_learn_account`).
    """
    book: dict[str, AccountAddress | None] = session.info.setdefault(ADDRESS_BOOK, {})
    wanted = {account_id for account_id in account_ids if account_id} - set(book)
    if not wanted:
        return
    found = await session.scalars(
        select(AccountAddress).where(AccountAddress.account_id.in_(sorted(wanted)))
    )
    book.update(dict.fromkeys(wanted))
    book.update({row.account_id: row for row in found})


def account_read_by(event: EventEnvelope) -> str:
    """The account whose address row handling `event` reads ("" if none): auth's events
    update it, and e-mails to an event's address or account take its language from it."""
    rule = MAILERS.get(event.type)
    if event.source == "auth" or (rule is not None and rule.audience != "family"):
        return _str(event.data.get("account_id"))
    return ""


async def _address_of(session: AsyncSession, account_id: str) -> AccountAddress | None:
    if not account_id:
        return None
    # A row learnt from this very event may still be pending, which `get` would flush (a
    # statement and a unit of work) before reading; it is taken as it is instead, and
    # written with the e-mail's row at the one flush before the commit.
    book: dict[str, AccountAddress | None] = session.info.get(ADDRESS_BOOK, {})
    if account_id in book:
        return book[account_id]
    return await session.get(AccountAddress, account_id)


async def known_kind(session: AsyncSession, account_id: str) -> str | None:
    """An account's kind (`family`, `staff`) as auth told it; None when unknown."""
    row = await _address_of(session, account_id)
    return row.kind if row is not None and row.kind else None


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


async def wants(session: AsyncSession, family_id: str, category: str) -> bool:
    """Whether the family receives an optional category (yes unless it said no)."""
    if category == MANDATORY:
        return True
    choice = await session.get(EmailPreference, (family_id, category))
    return True if choice is None else choice.enabled


# --- what events teach this service (addresses, activities, pending requests) ---------------


async def learn_from_event(session: AsyncSession, event: EventEnvelope) -> None:
    """Keep the address book, the families' activities and the pending requests up to date."""
    if event.source == "auth":
        await _learn_account(session, event)
    if event.type == "registration.accepted":
        family_id = event.family_id or _str(event.data.get("family_id"))
        activity_id = _str(event.data.get("activity_id"))
        if (
            family_id
            and activity_id
            and await session.get(FamilyActivity, (family_id, activity_id)) is None
        ):
            session.add(FamilyActivity(family_id=family_id, activity_id=activity_id))
    pending = PENDING_REQUESTS.get(event.type)
    if pending is not None:
        kind, field, opens = pending
        request = _str(event.data.get(field))
        if request:
            key = f"{kind}:{request}"[:120]
            row = await session.get(PendingRequest, key)
            if opens and row is None:
                session.add(
                    PendingRequest(
                        key=key,
                        kind=kind,
                        family_id=event.family_id,
                        requested_at=event.occurred_at,
                    )
                )
            elif not opens and row is not None:
                await session.delete(row)


async def _learn_account(session: AsyncSession, event: EventEnvelope) -> None:
    account_id = _str(event.data.get("account_id"))
    if not account_id:
        return
    row = await _address_of(session, account_id)
    if row is not None and row.updated_at > event.occurred_at:
        return  # an older event, re-published late: what we know is newer
    known_before = row is not None
    if row is None:
        row = AccountAddress(account_id=account_id, language="fr", disabled=False)
        session.add(row)
    session.info.setdefault(ADDRESS_BOOK, {})[account_id] = row
    row.updated_at = event.occurred_at
    email = _str(event.data.get("email"))
    if email:
        row.email = email[:320]
    kind = _str(event.data.get("kind"))
    if kind:
        row.kind = kind[:10]
    language = _str(event.data.get("language"))
    if language in ("fr", "en"):
        row.language = language
    if event.type == "account.disabled":
        row.disabled = True
    elif event.type == "account.enabled":
        row.disabled = False
    families = event.data.get("family_ids")
    if isinstance(families, list):
        family_ids = [f for f in families if isinstance(f, str)]
        await _set_families(session, account_id, family_ids, replace=known_before)


async def _set_families(
    session: AsyncSession, account_id: str, family_ids: Sequence[str], *, replace: bool
) -> None:
    # A new account has no memberships yet: nothing to delete (one round trip fewer).
    if replace:
        await session.execute(delete(AccountFamily).where(AccountFamily.account_id == account_id))
    for family_id in dict.fromkeys(family_ids):
        session.add(AccountFamily(account_id=account_id, family_id=family_id[:36]))


# --- staff: the e-mail log; families: their preferences ------------------------------------


async def list_emails(
    session: AsyncSession, *, state: str | None, page: int, page_size: int
) -> tuple[list[OutgoingEmail], int]:
    """E-mails newest first, of one state or all."""
    conditions = [OutgoingEmail.state == state] if state else []
    total = await session.scalar(select(func.count()).select_from(OutgoingEmail).where(*conditions))
    rows = await session.scalars(
        select(OutgoingEmail)
        .where(*conditions)
        .order_by(OutgoingEmail.created_at.desc(), OutgoingEmail.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    return list(rows), int(total or 0)


async def resend(session: AsyncSession, email_id: str) -> OutgoingEmail:
    """Give a failed e-mail another chance (staff's resend button): pending again, due now."""
    row = await session.get(OutgoingEmail, email_id[:36], with_for_update=True)
    if row is None:
        raise NotFound("No such e-mail.")
    if row.state != "failed":
        raise Conflict("Only a failed e-mail can be sent again.")
    row.state, row.attempts = "pending", 0
    row.next_attempt_at, row.enqueued_at = utcnow(), None
    return row


async def preferences(session: AsyncSession, family_id: str) -> dict[str, bool]:
    """Every optional category and whether the family receives it."""
    rows = await session.scalars(
        select(EmailPreference).where(EmailPreference.family_id == family_id)
    )
    chosen = {row.category: row.enabled for row in rows}
    return {category: chosen.get(category, True) for category in OPTIONAL_CATEGORIES}


async def set_preferences(
    session: AsyncSession, family_id: str, choices: dict[str, bool]
) -> dict[str, bool]:
    """Record the family's choices (only optional categories exist here)."""
    unknown = sorted(set(choices) - set(OPTIONAL_CATEGORIES))
    if unknown:
        raise ValidationFailed(
            "Only optional e-mails can be turned off.",
            errors=[
                {"field": f"categories.{c}", "message": "Not an optional category."}
                for c in unknown
            ],
        )
    now = utcnow()
    for category, enabled in choices.items():
        row = await session.get(EmailPreference, (family_id, category))
        if row is None:
            session.add(
                EmailPreference(
                    family_id=family_id, category=category, enabled=enabled, updated_at=now
                )
            )
        else:
            row.enabled, row.updated_at = enabled, now
    await session.flush()
    return await preferences(session, family_id)
