"""How old a person is on a day, as registrations judge it against a group's ages.

Pure and dependency-free: the gateway's « Mes inscriptions » page uses it too, to offer only
what the service will accept.
"""

from __future__ import annotations

from datetime import date


def age_on(birth_date: date, day: date) -> int:
    """Age in whole years on `day` (born on 29 February: a year older on 1 March)."""
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - int(before_birthday)
