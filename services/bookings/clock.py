"""The service's notion of "now", injected so that tests freeze it instead of sleeping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiohttp import web

from services.kit.outbox import utcnow

Clock = Callable[[], datetime]

CLOCK: web.AppKey[Clock] = web.AppKey("bookings_clock")


def system_clock() -> datetime:
    """The real current time, aware, in UTC."""
    return utcnow()
