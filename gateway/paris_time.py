"""Instants as people in the town read them: Paris time.

Services answer in UTC; a late evening there is already the next day in Paris, so pages
never cut an ISO string but convert it here (`formats.py` then writes the day or the
minute in the page's language).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def paris_today() -> date:
    """Today in the town: from 00:00 to 02:00 Paris time, the server's UTC date is still
    yesterday."""
    return datetime.now(PARIS).date()


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
