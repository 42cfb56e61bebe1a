"""The notifications rules, with no HTTP and no broker in them."""

from __future__ import annotations

import enum
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.kit.outbox import utcnow

from .config import NotificationsSettings
from .errors import UnhandledEvent
from .events import (
    EVENT_ID_PATTERN,
    JOURNALERS,
    MAILERS,
    EventEnvelope,
    JournalDraft,
    actor_of,
)
from .models import (
    AccountAddress,
    AccountFamily,
    DeadLetter,
    JournalEntry,
    OutgoingEmail,
    ProcessedEvent,
)
from .outgoing import (
    account_read_by,
    emails_for_event,
    known_kind,
    learn_from_event,
    read_addresses,
)
from .schemas import JournalEntryRead, JournalPerson

MAX_DEAD_LETTER_REASON = 1000


class Outcome(enum.Enum):
    """What handling one delivery did."""

    HANDLED = "handled"
    DUPLICATE = "duplicate"
    DEAD_LETTER = "dead_letter"


@dataclass(frozen=True)
class Delivery:
    """The outcome of one delivery, the event id to acknowledge (None: nothing to ack), and
    the e-mails it owes (rows added to the caller's transaction, pending)."""

    outcome: Outcome
    ack_id: str | None
    emails: tuple[OutgoingEmail, ...] = ()


async def handle_event(
    session: AsyncSession, *, raw: Any, settings: NotificationsSettings
) -> Delivery:
    """Handle one delivered message in the caller's transaction, at most once per event id.

    The claim (`processed_events`) and the effects are written in the same transaction, so
    that a crash between them is impossible: either both are committed or neither is, and
    a re-delivery after a commit is recognised and skipped.
    """
    (delivery,) = await handle_events(session, raws=[raw], settings=settings)
    return delivery


async def handle_events(
    session: AsyncSession, *, raws: Sequence[Any], settings: NotificationsSettings
) -> list[Delivery]:
    """Handle several messages in the caller's transaction, in their order: one `Delivery` each.

    The same rules as one at a time, in fewer round trips: every id is claimed by one
    statement, the accounts the events name are read by one, and the rows the events add are
    written together at the flush before the COMMIT. Claims and effects commit together or
    not at all, so that the batch is handled exactly once, whatever happens to the worker.
    """
    parsed: list[EventEnvelope | UnhandledEvent] = []
    for raw in raws:
        try:
            parsed.append(_parse(raw))
        except UnhandledEvent as exc:
            parsed.append(exc)
    ids = [_claimable_id(raw, item) for raw, item in zip(raws, parsed, strict=True)]
    claimed = await claim_events(session, [(i, t) for i, t in ids if i is not None])
    events = [item for item in parsed if isinstance(item, EventEnvelope)]
    # The actors too: a line whose event names no role takes its actor's kind (_role_of).
    await read_addresses(
        session, [account_read_by(e) for e in events] + [actor_of(e)[0] or "" for e in events]
    )
    deliveries = []
    for raw, item, (event_id, _) in zip(raws, parsed, ids, strict=True):
        if event_id is not None and event_id not in claimed:
            deliveries.append(Delivery(Outcome.DUPLICATE, event_id))
            continue
        claimed.discard(event_id)  # a second copy in this batch is a duplicate
        if isinstance(item, UnhandledEvent):
            _add_dead_letter(session, raw, item.reason)
            deliveries.append(Delivery(Outcome.DEAD_LETTER, event_id))
        else:
            deliveries.append(await _apply(session, settings, raw, item))
    return deliveries


async def _apply(
    session: AsyncSession, settings: NotificationsSettings, raw: Any, event: EventEnvelope
) -> Delivery:
    """The effects of one claimed event: journal line, what it teaches, e-mails it owes."""
    journaler = JOURNALERS.get(event.type)
    if journaler is None and event.type not in MAILERS:
        _add_dead_letter(session, raw, f"unknown event type {event.type!r}")
        return Delivery(Outcome.DEAD_LETTER, event.id)
    draft = journaler(event) if journaler is not None else None
    if draft is not None:
        session.add(
            JournalEntry(
                id=str(uuid.uuid4()),
                event_id=event.id,
                family_id=draft.family_id,
                account_id=draft.account_id,
                event_type=event.type,
                occurred_at=event.occurred_at,
                summary=draft.summary,
                actor_id=draft.actor_id[:64] if draft.actor_id else None,
                actor_role=await _role_of(session, draft),
            )
        )
    await learn_from_event(session, event)
    # The e-mails, in this same transaction: committed with the claim, or not at all.
    emails = await emails_for_event(session, settings, event)
    return Delivery(Outcome.HANDLED, event.id, tuple(emails))


async def _role_of(session: AsyncSession, draft: JournalDraft) -> str | None:
    """The actor's role as the event says it, else its account's kind in the address book
    (auth tells it; families' `by` is a bare account id)."""
    role = draft.actor_role or (await known_kind(session, draft.actor_id or ""))
    return role[:10] if role else None


def _claimable_id(raw: Any, item: EventEnvelope | UnhandledEvent) -> tuple[str | None, str]:
    """The id and type to claim a message by; no id for a message without a usable one."""
    if isinstance(item, EventEnvelope):
        return item.id, item.type
    # A malformed message that still carries a usable id is claimed and acknowledged: its
    # producer would otherwise re-publish it forever, and each copy would be a new letter.
    event_id = raw.get("id") if isinstance(raw, dict) else None
    if not isinstance(event_id, str) or not re.fullmatch(EVENT_ID_PATTERN, event_id):
        return None, ""
    return event_id, str(raw.get("type") or "unknown")[:100]


async def claim_events(session: AsyncSession, claims: Sequence[tuple[str, str]]) -> set[str]:
    """Mark each (event id, type) handled in the caller's transaction, in one statement;
    returns the ids claimed now (not those handled before).

    Ids are inserted in sorted order: two batches sharing ids, delivered at once to two
    processes, then wait for each other in the same order instead of deadlocking. The loser
    sees the winner's rows once it commits and skips them.
    """
    unique = dict(claims)
    if not unique:
        return set()
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    statement = (
        insert(ProcessedEvent)
        .values(
            [
                {"event_id": event_id, "event_type": unique[event_id], "processed_at": now}
                for event_id in sorted(unique)
            ]
        )
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(ProcessedEvent.event_id)
    )
    # On the session's connection: a Core statement, without the ORM's execution path.
    connection = await session.connection()
    return set((await connection.execute(statement)).scalars())


def _parse(raw: Any) -> EventEnvelope:
    if not isinstance(raw, dict):
        raise UnhandledEvent(f"the message is a {type(raw).__name__}, not an object")
    try:
        return EventEnvelope.model_validate(raw)
    except ValidationError as exc:
        fields = ", ".join(
            ".".join(str(p) for p in error["loc"]) or "message"
            for error in exc.errors(include_url=False, include_input=False)
        )
        raise UnhandledEvent(f"malformed envelope: {fields}") from None


def _add_dead_letter(session: AsyncSession, raw: Any, reason: str) -> None:
    session.add(
        DeadLetter(
            id=str(uuid.uuid4()),
            received_at=utcnow(),
            reason=reason[:MAX_DEAD_LETTER_REASON],
            raw=_json_safe(raw),
        )
    )


def _json_safe(raw: Any) -> Any:
    try:
        json.dumps(raw)
    except (TypeError, ValueError):
        return {"repr": repr(raw)[:10_000]}
    return raw


async def list_journal(
    session: AsyncSession,
    *,
    family_id: str,
    page: int,
    page_size: int,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[list[JournalEntry], int]:
    """One page of a family's journal, newest first, and how many entries match in all."""
    conditions = [JournalEntry.family_id == family_id]
    if since is not None:
        conditions.append(JournalEntry.occurred_at >= since)
    if until is not None:
        conditions.append(JournalEntry.occurred_at < until)
    total = await session.scalar(select(func.count()).select_from(JournalEntry).where(*conditions))
    entries = await session.scalars(
        select(JournalEntry)
        .where(*conditions)
        .order_by(JournalEntry.occurred_at.desc(), JournalEntry.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    return list(entries), int(total or 0)


async def family_accounts(session: AsyncSession, family_id: str) -> dict[str, str | None]:
    """The family's accounts now (auth's memberships): account id → address, if known."""
    rows = await session.execute(
        select(AccountFamily.account_id, AccountAddress.email)
        .outerjoin(AccountAddress, AccountAddress.account_id == AccountFamily.account_id)
        .where(AccountFamily.family_id == family_id)
    )
    return {account_id: email for account_id, email in rows.all()}


async def agents_of(
    session: AsyncSession, entries: Sequence[JournalEntry]
) -> dict[str, str | None]:
    """The agents who acted on `entries`: account id → address (the address book's, learnt
    from auth's events), None when unknown. For a staff reader only (`journal_read`)."""
    ids = {e.actor_id for e in entries if e.actor_role == "staff" and e.actor_id}
    if not ids:
        return {}
    rows = await session.execute(
        select(AccountAddress.account_id, AccountAddress.email).where(
            AccountAddress.account_id.in_(ids)
        )
    )
    known = {account_id: email for account_id, email in rows.all()}
    return {account_id: known.get(account_id) for account_id in ids}


def journal_read(
    entry: JournalEntry,
    members: dict[str, str | None],
    agents: dict[str, str | None] | None = None,
) -> JournalEntryRead:
    """A journal line as the API gives it, its people named by `members` (family_accounts).

    A piece of software is only a role, and so is a staff member unless `agents` (agents_of)
    is given — to staff, never to a family nor in its export: then the agent's id and
    address. A family account is named by its address while it belongs to the family; one
    that left it is « family » without an id."""

    def person(account_id: str | None, role: str | None) -> JournalPerson | None:
        if role == "staff" and agents is not None and account_id:
            return JournalPerson(role=role, account_id=account_id, email=agents.get(account_id))
        if role in ("staff", "service"):
            return JournalPerson(role=role)
        if account_id in members:
            return JournalPerson(role="family", account_id=account_id, email=members[account_id])
        return JournalPerson(role="family") if role == "family" else None

    about = entry.account_id if entry.event_type.startswith("account.") else None
    return JournalEntryRead(
        id=entry.id,
        event_type=entry.event_type,
        occurred_at=entry.occurred_at,
        account_id=entry.account_id,
        summary=entry.summary,
        by=person(entry.actor_id, entry.actor_role),
        account=person(about, "family") if about else None,
    )


async def count_journal(session: AsyncSession, *, family_id: str) -> int:
    """How many lines a family's journal has."""
    total = await session.scalar(
        select(func.count()).select_from(JournalEntry).where(JournalEntry.family_id == family_id)
    )
    return int(total or 0)


async def list_dead_letters(
    session: AsyncSession, *, page: int, page_size: int
) -> tuple[list[DeadLetter], int]:
    """One page of dead letters, newest first, and how many there are."""
    total = await session.scalar(select(func.count()).select_from(DeadLetter))
    letters = await session.scalars(
        select(DeadLetter)
        .order_by(DeadLetter.received_at.desc(), DeadLetter.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    return list(letters), int(total or 0)


async def purge_processed_events(session: AsyncSession, *, older_than: timedelta) -> int:
    """Forget handled event ids older than `older_than`; returns how many were removed."""
    result = await session.execute(
        delete(ProcessedEvent).where(ProcessedEvent.processed_at < utcnow() - older_than)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
