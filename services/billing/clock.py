"""Business dates are decided in Europe/Paris; instants are stored in UTC."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def today() -> date:
    """Today's date in Paris."""
    return datetime.now(PARIS).date()


def previous_month(on: date) -> str:
    """`2026-04-01` → `2026-03`."""
    year, month = (on.year, on.month - 1) if on.month > 1 else (on.year - 1, 12)
    return f"{year:04d}-{month:02d}"
