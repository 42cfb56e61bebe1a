"""Wakes a relay running in a process of its own when its service commits an event.

A commit that wrote outbox rows sends `NOTIFY outbox_committed` in its transaction
(`Database`), so the notification arrives only if the change committed. This listener keeps
a connection of its own (not from the pool: a LISTEN belongs to one session, and a pooled
connection is handed to others) and calls `wake` for each notification. When the connection
is lost (PostgreSQL restarted, the backend terminated, the network cut), it connects again
and wakes the relay once, since whatever committed in between sent its notification to
nobody; until then the relay's slow poll still runs, so a lost notification only delays.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import asyncpg
import structlog
from sqlalchemy.engine import make_url

from .database import OUTBOX_CHANNEL

log = structlog.get_logger(__name__)
CONNECT_TIMEOUT_SECONDS = 5.0
RECONNECT_AFTER_SECONDS = 1.0
# How the listener's session shows in pg_stat_activity.
APPLICATION_NAME = "outbox-listener"


# Arguments SQLAlchemy's dialect adds for its own connection wrapper, not asyncpg's.
_SQLALCHEMY_ONLY = (
    "async_creator_fn",
    "prepared_statement_cache_size",
    "prepared_statement_name_func",
)


def asyncpg_connect_args(database_url: str) -> dict[str, Any]:
    """`asyncpg.connect`'s arguments for a SQLAlchemy `postgresql+asyncpg://` URL, read by the
    dialect as the engine reads them (so that `?ssl=require` and the like mean the same)."""
    url = make_url(database_url)
    _args, params = url.get_dialect()().create_connect_args(url)
    return {key: value for key, value in params.items() if key not in _SQLALCHEMY_ONLY}


class OutboxListener:
    """LISTENs on `outbox_committed` over a dedicated connection, reconnecting when it drops."""

    def __init__(
        self,
        database_url: str,
        wake: Callable[[], None],
        *,
        check_every: float,
        channel: str = OUTBOX_CHANNEL,
    ) -> None:
        self.connect_args = asyncpg_connect_args(database_url)
        self.wake = wake
        # A connection cut without a word from the server (a network partition) is only
        # seen when something is sent on it: a trivial query this often finds it.
        self.check_every = check_every
        self.channel = channel

    async def run_forever(self) -> None:
        """Listen until cancelled; a failing database only delays the next wakeup."""
        while True:
            try:
                await self._listen_until_lost()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox_listen_failed", error=type(exc).__name__, detail=str(exc)[:200])
            await asyncio.sleep(RECONNECT_AFTER_SECONDS)

    async def _listen_until_lost(self) -> None:
        connection = await asyncpg.connect(
            **self.connect_args,
            timeout=CONNECT_TIMEOUT_SECONDS,
            server_settings={"application_name": APPLICATION_NAME},
        )
        lost = asyncio.Event()
        try:
            connection.add_termination_listener(lambda _connection: lost.set())
            await connection.add_listener(self.channel, self._notified)
            log.info("outbox_listening", channel=self.channel)
            # Commits made while nobody listened notified nobody: one pass finds them.
            self.wake()
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), self.check_every)
                if not lost.is_set():
                    await connection.execute("SELECT 1", timeout=CONNECT_TIMEOUT_SECONDS)
            log.warning("outbox_listen_lost")
        finally:
            connection.terminate()

    def _notified(self, *_notification: Any) -> None:
        self.wake()
