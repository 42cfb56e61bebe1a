"""Amounts and dates in the page's language: « 35,00 € », « mercredi 21/04/2027 », « mardi
10 mars 2026 à 10:00 » on French pages; « €35.00 », « Wednesday 21 April 2027 », « Tuesday
10 March 2026 at 10:00 » on English ones.

English pages write British English (« cancelled », « catalogue » in the catalogs), so their
formats are en_GB's with the month named: « 21 April 2027 », never « 21/04/2027 », which an
English reader may take for a month first. Where a French page is short (« mer. 21/04 » in
the planning's columns and result lines), the English one abbreviates the month too (« Wed
21 Apr »). Babel's CLDR data writes the names of days and months and the amounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from aiohttp import web
from babel.dates import format_date, format_datetime

from services.billing.money import euros

from .i18n import DEFAULT_LANGUAGE
from .keys import LANGUAGE
from .paris_time import in_paris

LOCALES = {"fr": "fr_FR", "en": "en_GB"}
# Babel patterns, by page language.
DAY = {"fr": "dd/MM/y", "en": "d MMMM y"}
MINUTE = {"fr": "dd/MM/y HH:mm", "en": "d MMMM y 'at' HH:mm"}
WEEKDAY_DAY = {"fr": "EEEE dd/MM/y", "en": "EEEE d MMMM y"}
SHORT_DAY = {"fr": "EEE dd/MM/y", "en": "EEE d MMM y"}
# Read aloud by screen readers: words, not figures (« 21/04/2027 » is read digit by digit).
SPOKEN_DAY = {"fr": "EEEE d MMMM y", "en": "EEEE d MMMM y"}
SHORT_DAY_IN_YEAR = {"fr": "EEE dd/MM", "en": "EEE d MMM"}
LONG_MINUTE = {"fr": "EEEE d MMMM y 'à' HH:mm", "en": "EEEE d MMMM y 'at' HH:mm"}
MONTH = {"fr": "LLLL y", "en": "LLLL y"}


@dataclass(frozen=True)
class Formats:
    """A page's formatters; templates get `euros`, `date_text`, `day_text`, `minute_text`,
    `spoken_day`."""

    language: str

    @property
    def locale(self) -> str:
        """The Babel locale of the page's language."""
        return LOCALES.get(self.language, LOCALES[DEFAULT_LANGUAGE])

    def euros(self, cents: int) -> str:
        """`3500` → « 35,00 € » / « €35.00 »."""
        return euros(cents, self.locale)

    def date_text(self, value: date | str | None, missing: str = "") -> str:
        """A calendar day (a `date` or `2027-05-05`) → « 05/05/2027 » / « 5 May 2027 »."""
        day = _as_date(value)
        return self._date(day, DAY) if day else (missing if not value else str(value))

    def weekday_date(self, value: date | str | None) -> str:
        """« mercredi 05/05/2027 » / « Wednesday 5 May 2027 »."""
        day = _as_date(value)
        return self._date(day, WEEKDAY_DAY) if day else str(value or "")

    def spoken_day(self, value: date | str) -> str:
        """« mercredi 21 avril 2027 » / « Wednesday 21 April 2027 »: a day for screen readers."""
        day = _as_date(value)
        return self._date(day, SPOKEN_DAY) if day else str(value)

    def short_day(self, value: date | str, *, year: bool = True) -> str:
        """« mer. 05/05/2027 » / « Wed 5 May 2027 »; « mer. 05/05 » / « Wed 5 May » without
        the year (a week's columns)."""
        day = _as_date(value)
        if day is None:
            return str(value)
        return self._date(day, SHORT_DAY if year else SHORT_DAY_IN_YEAR)

    def long_minute(self, moment: datetime) -> str:
        """« mardi 10 mars 2026 à 10:00 » / « Tuesday 10 March 2026 at 10:00 » (a naive
        `moment` is already Paris time)."""
        pattern = LONG_MINUTE.get(self.language, LONG_MINUTE["fr"])
        return format_datetime(moment, pattern, locale=self.locale)

    def month(self, year: int, month: int) -> str:
        """« mai 2027 » / « May 2027 »."""
        return self._date(date(year, month, 1), MONTH)

    def day(self, instant: str | None, missing: str = "—") -> str:
        """The Paris day of an instant (services answer in UTC), `missing` when there is none."""
        moment = in_paris(instant) if instant else None
        return self._moment(moment, DAY) if moment else missing

    def minute(self, instant: str | None, missing: str = "") -> str:
        """The Paris time of an instant: « 28/11/2026 21:59 » / « 28 November 2026 at 21:59 »."""
        moment = in_paris(instant) if instant else None
        return self._moment(moment, MINUTE) if moment else missing

    def _date(self, day: date, patterns: dict[str, str]) -> str:
        return format_date(day, patterns.get(self.language, patterns["fr"]), locale=self.locale)

    def _moment(self, moment: datetime, patterns: dict[str, str]) -> str:
        pattern = patterns.get(self.language, patterns["fr"])
        return format_datetime(moment, pattern, tzinfo=moment.tzinfo, locale=self.locale)


FORMATS = {language: Formats(language) for language in LOCALES}


def formats_of(request: web.Request) -> Formats:
    """The formatters of this request's page language."""
    return formats_in(request.get(LANGUAGE, DEFAULT_LANGUAGE))


def formats_in(language: object) -> Formats:
    """The formatters of `language` (a page's, or a translator's `.language`); French else."""
    return FORMATS.get(str(language), FORMATS[DEFAULT_LANGUAGE])


def _as_date(value: date | str | None) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None
