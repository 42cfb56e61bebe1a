"""Sending one owed e-mail: lock its row, hand it to SMTP, record what happened.

Two ways. A send task (`email.send`, from the relay, the digest, a resend) locks the row
(`SELECT … FOR UPDATE SKIP LOCKED`) for the whole send, in one transaction: a second task
for the same e-mail (re-enqueued by the relay, restored by kombu) finds it locked and skips,
or finds it sent and skips. A worker killed mid-send drops its connection, PostgreSQL
releases the lock and rolls back: the row is still pending and the relay enqueues it again.
The one window left — the server accepted the message, the worker died before COMMIT —
resends it with the same `Message-ID`; the row's new state is written before the send so
that only the COMMIT stands in that window.

The consumer (`send_committed`) sends the rows it has just committed without a lock: they
are leased to it (the relay leaves them alone for `email_requeue_after_seconds`), and each
is marked sent by one autocommitted statement right after the server's 250 — the same
one-e-mail window, per lane.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable

from services.kit.outbox import utcnow

from .config import NotificationsSettings
from .models import OutgoingEmail
from .smtp import SmtpFailure, SmtpSender, build_message

log = structlog.get_logger(__name__)
# Named `email.*`: the kit's routes put it on the `email` queue.
SEND_TASK = "email.send"


def enqueue_email(celery: Any, email_id: str) -> None:
    """Put one send task on the `email` queue (blocking; no retry: the relay is the retry)."""
    celery.send_task(SEND_TASK, args=[email_id], queue="email", retry=False)


class SendOutcome(enum.Enum):
    """What one send task did."""

    SENT = "sent"
    SKIPPED = "skipped"  # sent already, failed, locked by another worker, or not due yet
    RETRY = "retry"  # temporary failure or unreachable server: due again later
    FAILED = "failed"  # permanent failure: visible to staff, who may resend


def retry_delay(settings: NotificationsSettings, attempts: int) -> timedelta:
    """Capped exponential backoff with jitter (between half and all of the step)."""
    doubled = settings.email_retry_base_seconds * 2 ** min(max(attempts - 1, 0), 30)
    step = min(settings.email_retry_max_seconds, doubled)
    return timedelta(seconds=step * random.uniform(0.5, 1.0))


async def send_email(
    session: AsyncSession, settings: NotificationsSettings, sender: SmtpSender, email_id: str
) -> SendOutcome:
    """Send the e-mail `email_id` if it is still pending and due, in the caller's transaction."""
    row = await _claim(session, email_id)
    if row is None:
        return SendOutcome.SKIPPED
    return await _hand_over(settings, sender, row)


# Runs one statement with its parameters durably on its own (autocommit on PostgreSQL: one
# round trip).
Record = Callable[[Executable, dict[str, Any]], Awaitable[object]]


async def send_committed(
    record: Record,
    settings: NotificationsSettings,
    sender: SmtpSender,
    row: OutgoingEmail,
    *,
    deadline: float,
) -> SendOutcome:
    """Send an e-mail its writer committed a moment ago, within its lease, and `record` the
    outcome (one statement, durable at once).

    Nobody else sends the row during its lease (the relay leaves it alone for
    `email_requeue_after_seconds` after its `enqueued_at`), so it needs no lock; the send is
    given up at `deadline` (loop time), before the lease ends. The `sent` state is written
    right after the server's 250: a worker killed between the two leaves this one e-mail
    pending, and the relay sends it again, with the same `Message-ID`, once the lease is over.
    """
    row.attempts += 1
    try:
        await sender.send(build_message(row, settings), deadline=deadline)
    except SmtpFailure as failure:
        outcome = _record_failure(settings, row, failure)
    else:
        outcome, row.state, row.sent_at = SendOutcome.SENT, "sent", utcnow()
    await record(_RECORD_OUTCOME, {f"new_{name}": getattr(row, name) for name in _RECORDED})
    log.info("email_send", email_id=row.id, outcome=outcome.value)
    return outcome


# The columns a send changes, and the one statement that writes them (built once: its
# construction and cache key cost more CPU than its round trip).
_RECORDED = ("id", "state", "attempts", "last_error", "next_attempt_at", "enqueued_at", "sent_at")
_COLUMNS = OutgoingEmail.__table__.c
_RECORD_OUTCOME = (
    update(OutgoingEmail)
    .where(
        OutgoingEmail.id == bindparam("new_id", type_=_COLUMNS.id.type),
        OutgoingEmail.state == "pending",
    )
    .values(
        {
            name: bindparam(f"new_{name}", type_=_COLUMNS[name].type)
            for name in _RECORDED
            if name != "id"
        }
    )
)


async def _hand_over(
    settings: NotificationsSettings, sender: SmtpSender, row: OutgoingEmail
) -> SendOutcome:
    """Give a row already marked sent to SMTP; on failure, record what the answer calls for."""
    try:
        await sender.send(build_message(row, settings))
    except SmtpFailure as failure:
        row.state, row.sent_at = "pending", None
        return _record_failure(settings, row, failure)
    # Only the caller's COMMIT is left: the narrowest window a crash can duplicate in.
    return SendOutcome.SENT


async def _claim(session: AsyncSession, email_id: str) -> OutgoingEmail | None:
    """Lock the row if it is pending, due and not locked by another sender, and mark it sent.

    One statement: the lock (`FOR UPDATE SKIP LOCKED`, in the sub-select) and the `sent`
    state written before the message goes out, committed after the server's 250.
    """
    now = utcnow()
    lockable = (
        select(OutgoingEmail.id)
        .where(
            OutgoingEmail.id == email_id,
            OutgoingEmail.state == "pending",
            OutgoingEmail.next_attempt_at <= now,
        )
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    claimed = await session.scalars(
        update(OutgoingEmail)
        .where(OutgoingEmail.id == lockable)
        .values(
            state="sent",
            sent_at=now,
            last_error=None,
            attempts=OutgoingEmail.attempts + 1,
        )
        .returning(OutgoingEmail)
        .execution_options(synchronize_session=False)
    )
    return claimed.one_or_none()


def _record_failure(
    settings: NotificationsSettings, row: OutgoingEmail, failure: SmtpFailure
) -> SendOutcome:
    row.last_error = f"{failure.kind}: {failure.detail}"[:2000]
    log.warning("email_not_sent", email_id=row.id, kind=failure.kind, attempts=row.attempts)
    if failure.kind == "permanent" or (
        failure.kind == "temporary" and row.attempts >= settings.email_max_temporary_failures
    ):
        row.state = "failed"
        return SendOutcome.FAILED
    row.next_attempt_at = utcnow() + retry_delay(settings, row.attempts)
    row.enqueued_at = None  # the relay enqueues it once it is due
    return SendOutcome.RETRY
