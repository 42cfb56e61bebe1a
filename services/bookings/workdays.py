"""The French calendar of the structure: Europe/Paris time, week-ends and public holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

PARIS = ZoneInfo("Europe/Paris")


@lru_cache(maxsize=64)
def _public_holidays(year: int) -> dict[date, str]:
    # Metropolitan France; names in French for the screens ("Lundi de Pâques").
    return dict(holidays.country_holidays("FR", years=year, language="fr").items())


def public_holiday(day: date) -> str | None:
    """The name of the French public holiday on `day`, or None."""
    return _public_holidays(day.year).get(day)


def is_working_day(day: date) -> bool:
    """Monday to Friday and not a public holiday."""
    return day.weekday() < 5 and public_holiday(day) is None


def paris_to_utc(day: date, at: time) -> datetime:
    """The UTC instant of `at` o'clock on `day` in Paris (daylight saving time included)."""
    return datetime.combine(day, at, tzinfo=PARIS).astimezone(UTC)


def paris_day(moment: datetime) -> date:
    """The date in Paris at the aware instant `moment`: from 22:00 or 23:00 UTC it is already
    the next day there."""
    return moment.astimezone(PARIS).date()


def as_utc(moment: datetime) -> datetime:
    """An instant in UTC; a naive datetime is read as Paris local time (how staff think)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=PARIS)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        # 01/01/0001 00:00 in Paris is before the first instant UTC can hold: a ValueError
        # is what the schemas' validators turn into a 422 for that field.
        raise ValueError("date out of range") from None
