"""The e-mail relay: puts owed e-mails on the `email` queue, again if they are still pending.

It runs in the notifications HTTP service, beside its requests, for the reasons the outbox
relay runs in each producer (docs/events.md): it needs only this service's database and
the broker, it lives and scales with the service (several replicas take disjoint rows with
`SKIP LOCKED`), and it does not depend on beat, of which there is one. It is what makes a
lost send task harmless — Redis restarted empty, a worker killed with the task reserved —
and what sends the e-mails written by HTTP requests (contact messages, replies), which never
talk to the broker themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import structlog
from aiohttp import web
from sqlalchemy import or_, select

from services.kit.database import Database
from services.kit.keys import DATABASE
from services.kit.outbox import utcnow
from services.kit.queue import create_celery

from .config import NotificationsSettings
from .models import OutgoingEmail
from .sending import enqueue_email

log = structlog.get_logger(__name__)
BATCH = 200


class EmailRelay:
    """Each pass: enqueue pending e-mails that are due and not enqueued recently."""

    def __init__(
        self,
        database: Database,
        enqueue: Callable[[str], None],
        *,
        interval: float,
        requeue_after: float,
    ) -> None:
        self.database = database
        self.enqueue = enqueue
        self.interval = interval
        self.requeue_after = timedelta(seconds=requeue_after)

    async def run_forever(self) -> None:
        """Relay until cancelled; a failing broker or database only delays the e-mails."""
        while True:
            try:
                done = await self.relay_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("email_relay_failed", error=type(exc).__name__, detail=str(exc)[:200])
                done = 0
            await asyncio.sleep(0 if done >= BATCH else self.interval)

    async def relay_once(self) -> int:
        """One pass; returns how many e-mails it enqueued."""
        now = utcnow()
        async with self.database.transaction() as session:
            rows = (
                await session.scalars(
                    select(OutgoingEmail)
                    .where(OutgoingEmail.state == "pending")
                    .where(OutgoingEmail.next_attempt_at <= now)
                    .where(
                        or_(
                            OutgoingEmail.enqueued_at.is_(None),
                            OutgoingEmail.enqueued_at < now - self.requeue_after,
                        )
                    )
                    .order_by(OutgoingEmail.next_attempt_at)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            # Published before the commit: a failure rolls back, and the next pass retries.
            await asyncio.to_thread(self._enqueue_all, [row.id for row in rows])
            for row in rows:
                row.enqueued_at = now
        log.info("emails_enqueued", count=len(rows))
        return len(rows)

    def _enqueue_all(self, email_ids: list[str]) -> None:
        for email_id in email_ids:
            self.enqueue(email_id)


RELAY: web.AppKey[EmailRelay] = web.AppKey("email_relay", EmailRelay)


def email_relay_ctx(
    settings: NotificationsSettings,
) -> Callable[[web.Application], AsyncIterator[None]]:
    """The cleanup context that runs the relay for the application's lifetime."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        celery = create_celery(settings.redis_url)
        relay = EmailRelay(
            app[DATABASE],
            lambda email_id: enqueue_email(celery, email_id),
            interval=settings.email_relay_interval_seconds,
            requeue_after=settings.email_requeue_after_seconds,
        )
        app[RELAY] = relay
        task = asyncio.create_task(relay.run_forever(), name="email-relay")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        celery.close()

    return ctx
