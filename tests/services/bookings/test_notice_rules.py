"""Notice rules: deadlines in Paris time, around week-ends, public holidays and the minute."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from services.bookings.notice_rules import (
    DaysBefore,
    WeekdayBefore,
    deadline,
    describe_deadline,
    describe_rule,
    may_change,
    parse_rule,
)
from services.bookings.workdays import PARIS


@pytest.mark.parametrize(
    ("day", "expected_utc"),
    [
        # Thursday 15 April 2027: two calendar days before is Tuesday 13, 10:00 Paris = 08:00 UTC.
        (date(2027, 4, 15), datetime(2027, 4, 13, 8, 0, tzinfo=UTC)),
        # Monday 19 April: Saturday 17 April 10:00.
        (date(2027, 4, 19), datetime(2027, 4, 17, 8, 0, tzinfo=UTC)),
        # Winter time: Monday 8 February 2027 → Saturday 6, 10:00 Paris = 09:00 UTC.
        (date(2027, 2, 8), datetime(2027, 2, 6, 9, 0, tzinfo=UTC)),
    ],
)
def test_calendar_days_before(day: date, expected_utc: datetime) -> None:
    rule = DaysBefore(kind="days_before", days=2, at=time(10, 0))
    assert deadline(rule, day) == expected_utc


@pytest.mark.parametrize(
    ("day", "expected_local_day"),
    [
        # Monday 19 April 2027, two working days before: Thursday 15.
        (date(2027, 4, 19), date(2027, 4, 15)),
        # Tuesday 30 March 2027: Monday 29 is Lundi de Pâques → Friday 26, Thursday 25.
        (date(2027, 3, 30), date(2027, 3, 25)),
        # Friday 7 May 2027: Thursday 6 is Ascension → Wednesday 5, Tuesday 4.
        (date(2027, 5, 7), date(2027, 5, 4)),
        # Monday 11 May 2026: Friday 8 May is a holiday → Thursday 7, Wednesday 6.
        (date(2026, 5, 11), date(2026, 5, 6)),
    ],
)
def test_working_days_before_skip_weekends_and_holidays(
    day: date, expected_local_day: date
) -> None:
    rule = DaysBefore(kind="days_before", days=2, at=time(10, 0), skip_weekends_and_holidays=True)
    local = deadline(rule, day).astimezone(PARIS)
    assert (local.date(), local.time()) == (expected_local_day, time(10, 0))


@pytest.mark.parametrize(
    ("day", "wednesday"),
    [
        (date(2027, 4, 15), date(2027, 4, 14)),  # Thursday → the day before
        (date(2027, 4, 14), date(2027, 4, 7)),  # a Wednesday → the week before
        (date(2027, 4, 19), date(2027, 4, 14)),  # Monday → last Wednesday
    ],
)
def test_previous_wednesday_at_noon(day: date, wednesday: date) -> None:
    rule = WeekdayBefore(kind="weekday_before", weekday=2, at=time(12, 0))
    assert deadline(rule, day) == datetime.combine(wednesday, time(10, 0), tzinfo=UTC)


def test_the_deadline_minute_itself_is_too_late() -> None:
    rule = parse_rule({"kind": "weekday_before", "weekday": 2, "at": "12:00"})
    day = date(2027, 4, 15)
    assert may_change(rule, day, datetime(2027, 4, 14, 9, 59, 59, tzinfo=UTC))
    assert not may_change(rule, day, datetime(2027, 4, 14, 10, 0, tzinfo=UTC))
    assert describe_deadline(deadline(rule, day)) == "mercredi 14 avril 2027 à 12:00"


def test_no_rule_means_until_the_day_starts() -> None:
    assert deadline(None, date(2027, 7, 1)) == datetime(2027, 6, 30, 22, 0, tzinfo=UTC)


def test_rules_are_data_and_bad_ones_are_refused() -> None:
    assert parse_rule(None) is None
    with pytest.raises(ValueError):
        parse_rule({"kind": "days_before", "days": -1})
    with pytest.raises(ValueError):
        parse_rule({"kind": "full_moon"})


# (days, working days only) → how the planning's header says the rule, in French. It said
# « 2 jour(s) ouvré(s) » whatever the count.
RULE_SENTENCES = [
    (1, True, "jusqu'à 1 jour ouvré avant, à 10:00"),
    (2, True, "jusqu'à 2 jours ouvrés avant, à 10:00"),
    (1, False, "jusqu'à 1 jour avant, à 10:00"),
    (2, False, "jusqu'à 2 jours avant, à 10:00"),
    (0, True, "jusqu'au jour même à 10:00"),
    (0, False, "jusqu'au jour même à 10:00"),
]


@pytest.mark.parametrize(("days", "working", "french"), RULE_SENTENCES)
def test_a_rule_says_its_days_in_the_singular_or_the_plural(
    days: int, working: bool, french: str
) -> None:
    rule = DaysBefore(
        kind="days_before", days=days, at=time(10, 0), skip_weekends_and_holidays=working
    )
    assert describe_rule(rule) == french
