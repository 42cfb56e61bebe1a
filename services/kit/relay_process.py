"""The outbox relay as a process of its own, beside a service that does not run it.

A service started with `OUTBOX_RELAY_IN_PROCESS=false` serves requests only; `portail
outbox-relay <service>` runs its relay (the same `OutboxRelay`: several relays share the
outbox with `SKIP LOCKED`). Publishing events then takes no time from the event loop
that answers requests — measured on a save of 10 bookings at about 1.4 ms of that loop's
CPU (docs/performance.md). The relay cannot be woken by the service's commits from here:
it polls every `OUTBOX_RELAY_INTERVAL` seconds, which bounds how late an event leaves.
"""

from __future__ import annotations

from redis.asyncio import Redis

from .database import Database
from .outbox import AckStore, OutboxMessageMixin, OutboxRelay
from .queue import create_celery, publish_events
from .settings import BaseServiceSettings

RELAY_POOL_SIZE = 2  # one pass at a time: its transaction, and the purge's


async def run_relay(settings: BaseServiceSettings, model: type[OutboxMessageMixin]) -> None:
    """Relay the service's outbox until cancelled."""
    database = Database(settings.database_url, pool_size=RELAY_POOL_SIZE, max_overflow=0)
    redis = Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=1)
    celery = create_celery(settings.redis_url)
    relay = OutboxRelay(
        database,
        model,
        lambda messages: publish_events(celery, messages),
        AckStore(redis),
        interval=settings.outbox_relay_interval_seconds,
        republish_after=settings.outbox_republish_after_seconds,
        keep_confirmed_for=settings.outbox_keep_confirmed_days * 86400,
    )
    try:
        await relay.run_forever()
    finally:
        celery.close()
        await redis.aclose()
        await database.dispose()
