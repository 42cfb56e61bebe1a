"""The outbox relay as a process of its own, beside a service that does not run it.

A service started with `OUTBOX_RELAY_IN_PROCESS=false` serves requests only; `portail
outbox-relay <service>` runs its relay (the same `OutboxRelay`: several relays share the
outbox with `SKIP LOCKED`). Publishing events then takes no time from the event loop
that answers requests — measured on a save of 10 bookings at about 1.4 ms of that loop's
CPU (docs/performance.md).

On PostgreSQL the relay is woken across processes: each commit that wrote an event sends
`NOTIFY outbox_committed` in its transaction, and `OutboxListener` hears it on a connection
of its own; the pass then gathers the commits of the next `OUTBOX_RELAY_GATHER` seconds, as
in the service. `OUTBOX_RELAY_INTERVAL` is only the safety poll (a notification lost while
the listener reconnects, a re-publication falling due). On SQLite there is no notification:
the relay polls every `OUTBOX_RELAY_INTERVAL`.
"""

from __future__ import annotations

import asyncio
import contextlib

from pydantic_settings import SettingsConfigDict
from redis.asyncio import Redis

from .database import Database, is_sqlite
from .outbox import AckStore, OutboxMessageMixin, OutboxRelay
from .outbox_listener import OutboxListener
from .queue import create_celery, publish_events
from .settings import BaseServiceSettings

RELAY_POOL_SIZE = 2  # one pass at a time: its transaction, and the purge's


def relay_settings_class(service_class: type[BaseServiceSettings]) -> type[BaseServiceSettings]:
    """The settings a service's relay reads: the kit's, under the service's own prefix.

    Not the service's class: in `prod` it would demand secrets the relay never uses (auth's
    key encryption key, the S3 credentials), which its process should not hold.
    """
    prefix = service_class.model_config.get("env_prefix", "")
    return type(
        f"{service_class.__name__}Relay",
        (BaseServiceSettings,),
        {
            "__doc__": f"The outbox relay of {service_class.service_name}.",
            "__module__": __name__,
            "model_config": SettingsConfigDict(env_prefix=prefix, extra="ignore", frozen=True),
            "service_name": service_class.service_name,
            "required_in_prod": ("database_url", "redis_url"),
        },
    )


async def run_relay(settings: BaseServiceSettings, model: type[OutboxMessageMixin]) -> None:
    """Relay the service's outbox until cancelled."""
    # The relay's own commits write no event: nothing of its own to notify.
    database = Database(
        settings.database_url,
        pool_size=RELAY_POOL_SIZE,
        max_overflow=0,
        notify_outbox_commits=False,
    )
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
        gather=settings.outbox_relay_gather_seconds,
    )
    listening = None
    if not is_sqlite(settings.database_url):
        listener = OutboxListener(
            settings.database_url,
            database.outbox_committed.set,
            check_every=settings.outbox_relay_interval_seconds,
        )
        listening = asyncio.create_task(listener.run_forever(), name="outbox-listener")
    try:
        await relay.run_forever()
    finally:
        if listening is not None:
            listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listening
        celery.close()
        await redis.aclose()
        await database.dispose()
