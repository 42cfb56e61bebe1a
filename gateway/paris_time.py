"""Instants as people in the town read them: Paris time, French day-first dates.

Services answer in UTC; a late evening there is already the next day in Paris, so pages
never cut an ISO string but convert it here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def in_paris(instant: str) -> datetime | None:
    """The ISO instant in Paris time (a naive one is UTC, as services write them); None if
    it is not an instant."""
    try:
        moment = datetime.fromisoformat(instant)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(PARIS)


def paris_day(instant: str | None, missing: str = "—") -> str:
    """« 28/11/2026 », the Paris day of an instant; `missing` when there is none."""
    moment = in_paris(instant) if instant else None
    return f"{moment:%d/%m/%Y}" if moment else missing


def paris_minute(instant: str | None, missing: str = "") -> str:
    """« 28/11/2026 21:59 », the Paris time of an instant; `missing` when there is none."""
    moment = in_paris(instant) if instant else None
    return f"{moment:%d/%m/%Y %H:%M}" if moment else missing
