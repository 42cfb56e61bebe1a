"""Notice rules ("délais de prévenance"): until when a day may be booked or cancelled.

A rule is data stored on the activity, one of:
- `{"kind": "days_before", "days": 2, "at": "10:00", "skip_weekends_and_holidays": true}`:
  the 2nd day before (working days only when skipping) at 10:00, Paris time;
- `{"kind": "weekday_before", "weekday": 2, "at": "12:00"}`: the last Wednesday strictly
  before the day, at noon ("the previous Wednesday at noon").
No rule means the day may be changed until it starts.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Annotated, Literal

from babel.dates import format_datetime
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from .workdays import PARIS, is_working_day, paris_to_utc

WEEKDAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


class DaysBefore(BaseModel):
    """N days before the day, at a time; optionally counting working days only."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["days_before"]
    days: int = Field(ge=0, le=90)
    at: time = time(0, 0)
    skip_weekends_and_holidays: bool = False


class WeekdayBefore(BaseModel):
    """The last given weekday strictly before the day, at a time (0 = lundi … 6 = dimanche)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["weekday_before"]
    weekday: int = Field(ge=0, le=6)
    at: time = time(12, 0)


NoticeRule = Annotated[DaysBefore | WeekdayBefore, Field(discriminator="kind")]
_RULE = TypeAdapter(NoticeRule)


def parse_rule(data: dict[str, object] | None) -> DaysBefore | WeekdayBefore | None:
    """The rule stored as JSON, or None."""
    return None if data is None else _RULE.validate_python(data)


def deadline(rule: DaysBefore | WeekdayBefore | None, day: date) -> datetime:
    """The last instant (UTC) at which `day` may still be changed under `rule`."""
    if rule is None:
        return paris_to_utc(day, time(0, 0))
    if isinstance(rule, WeekdayBefore):
        back = (day.weekday() - rule.weekday) % 7 or 7
        return paris_to_utc(day - timedelta(days=back), rule.at)
    target = day
    remaining = rule.days
    while remaining > 0:
        target -= timedelta(days=1)
        if not rule.skip_weekends_and_holidays or is_working_day(target):
            remaining -= 1
    return paris_to_utc(target, rule.at)


def may_change(rule: DaysBefore | WeekdayBefore | None, day: date, now: datetime) -> bool:
    """Whether `day` may still be changed at `now` (the deadline minute itself is too late)."""
    return now.astimezone(UTC) < deadline(rule, day)


@lru_cache(maxsize=4096)
def describe_deadline(moment: datetime) -> str:
    """A deadline as the screens say it: "mardi 10 mars 2026 à 10:00".

    Cached: a planning asks for the same few deadlines in every cell, and Babel's formatting
    was a tenth of a week's planning time.
    """
    return format_datetime(moment, "EEEE d MMMM y 'à' HH:mm", tzinfo=PARIS, locale="fr_FR")


def describe_rule(rule: DaysBefore | WeekdayBefore | None) -> str:
    """The rule in French, for the activity's page."""
    if rule is None:
        return "jusqu'au début de la journée"
    at = rule.at.strftime("%H:%M")
    if isinstance(rule, WeekdayBefore):
        return f"jusqu'au {WEEKDAYS_FR[rule.weekday]} précédent à {at}"
    if rule.days == 0:
        # « jusqu'à 0 jour avant » said it the long way round (and « 0 day » in English).
        return f"jusqu'au jour même à {at}"
    # Singular or plural as French counts (« 1 jour ouvré », « 2 jours ouvrés »): the page
    # said « 2 jour(s) ouvré(s) ». Each form has its own English template (service_sentences).
    working = rule.skip_weekends_and_holidays
    if rule.days == 1:
        unit = "jour ouvré" if working else "jour"
    else:
        unit = "jours ouvrés" if working else "jours"
    return f"jusqu'à {rule.days} {unit} avant, à {at}"
