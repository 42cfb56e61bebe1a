"""Services' own messages on the pages, in the page's language.

Services write their messages for people in French (a refusal's reason, a problem's
`detail`), often with names and dates in them. A French page shows them as they are. An
English page shows, in this order:
1. the catalog's translation of the exact sentence, for the fixed ones (« Activité inconnue. »);
2. else the catalog's template of that sentence (`sentence:<French template>`), filled with
   the values read from the French one — names kept (« Enfant TEST will be 2 on 26/04/2027 »),
   amounts and days rewritten the English way (« 5,00 € » → « €5.00 », « mardi 10 mars 2026
   à 10:00 » → « Tuesday 10 March 2026 at 10:00 »);
3. else the catalog's sentence for what the answer says happened — the problem's `type`
   (`problem:<slug>`), a refused reservation change's `code` (`refusal:<code>`) — filled with
   the values the answer carries apart from the sentence (a change's day, unit, activity);
4. else the service's French, as it is: better than a message that says less.
So the service's French sentence stays the French text, and no service learns English.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from aiohttp import web

from .calls import problem_detail
from .formats import formats_in
from .i18n import Translator, translator_of


def message_text(request: web.Request, message: str) -> str:
    """A service's sentence in the page's language when the catalog knows it (as such or by
    its template), else as it is."""
    _ = translator_of(request)
    if _.language == "fr" or _(message) != message:
        return _(message)
    return _translated(_, message)


@lru_cache(maxsize=8192)
def _translated(_: Translator, message: str) -> str:
    # Cached: a month's planning says the same few reasons and deadlines in every cell, and
    # each costs up to a hundred template matches.
    if said := _sentence(_, message):
        return said
    lone_value = any(p.fullmatch(message) for p in (FRENCH_DEADLINE, FRENCH_AMOUNT, FRENCH_DAY))
    return _value(_, message) if lone_value else message


def sentence_text(request: web.Request, message: str) -> str:
    """The catalog's template matching a service's French sentence, filled with its values in
    the page's language; "" when no template matches."""
    return _sentence(translator_of(request), message)


def _sentence(_: Translator, message: str) -> str:
    return _fill(_, _.sentences, message)


def _fill(
    _: Translator, templates: list[tuple[re.Pattern[str], str]], text: str, depth: int = 0
) -> str:
    for pattern, template in templates:
        found = pattern.fullmatch(text.strip())
        if found is not None:
            values = {
                name: _value(_, value, depth + 1) for name, value in found.groupdict().items()
            }
            return template.format(**values)
    return ""


def problem_text(request: web.Request, data: Any, fallback: str) -> str:
    """A service's problem for a page: its `detail` (or the page's `fallback`), translated by
    sentence or by `type` on an English page."""
    detail = problem_detail(data, fallback)
    _ = translator_of(request)
    if _.language == "fr":
        return detail
    if _(detail) != detail:
        return _(detail)
    if said := sentence_text(request, detail):
        return said
    slug = str(data.get("type", "")).rsplit("/", 1)[-1] if isinstance(data, dict) else ""
    return (_by_key(request, f"problem:{slug}") if slug else "") or detail


def change_result_label(request: web.Request, result: dict[str, Any]) -> str:
    """What became of one reservation change ("réservé", "refusé : complet …"), translated by
    state or by refusal `code` on an English page."""
    label = str(result.get("label") or "")
    _ = translator_of(request)
    if _.language == "fr" or result.get("ok"):
        return _(label)
    if said := sentence_text(request, label):
        return said
    key = f"refusal:{result.get('code') or ''}"
    day = result.get("day")
    values = {
        "day": formats_in(_.language).weekday_date(day) if isinstance(day, str) else "",
        "unit": result.get("unit_label") or "",
        "activity": result.get("activity_name") or "",
    }
    return _by_key(request, key, **values) or label


# The problems an upload can meet; the upload script gets their English sentences by type.
UPLOAD_PROBLEMS = (
    "file-refused", "upload-too-large", "uploads-busy", "person-not-found",
    "document-type-not-found", "members-unavailable", "storage-unavailable",
)  # fmt: skip


# The upload's own sentences (a refused file named, its found format), for the script.
UPLOAD_SENTENCES = (
    "Le fichier",
    "Le nom du fichier",
    "Le PDF",
    "L'image",
    "Les fichiers",
    "Envoyez",
)


def script_sentences(request: web.Request, starts: tuple[str, ...]) -> dict[str, Any]:
    """For a page's script: the catalog's templates of the French sentences that begin with
    one of `starts` (a JavaScript pattern and its English, `{name}` filled from the pattern's
    groups) and the English of the words those sentences carry; {} on a French page."""
    _ = translator_of(request)
    if _.language == "fr":
        return {}
    prefixes = tuple(re.escape(start) for start in starts)
    templates = [
        # Python's named groups (?P<name>…) are (?<name>…) in JavaScript.
        {"pattern": pattern.pattern.replace("(?P<", "(?<"), "text": text}
        for pattern, text in _.sentences
        if pattern.pattern.startswith(prefixes)
    ]
    return {"templates": templates, "words": {w: _(w) for w in UPLOAD_WORDS if _(w) != w}}


# What an upload's refusal names besides the file: the kind of content found (documents'
# `sniff`).
UPLOAD_WORDS = (
    "programme exécutable (ELF)", "programme exécutable Windows", "archive compressée",
    "image SVG", "page HTML", "format inconnu", "(aucune)",
)  # fmt: skip


def script_messages(request: web.Request, slugs: tuple[str, ...]) -> dict[str, str]:
    """For a page's script that shows an API's problem itself: the page's sentence for each
    problem type, {} on a French page (the service's `detail` is the French text)."""
    if translator_of(request).language == "fr":
        return {}
    found = {slug: _by_key(request, f"problem:{slug}") for slug in slugs}
    return {slug: sentence for slug, sentence in found.items() if sentence}


def _by_key(request: web.Request, key: str, **values: object) -> str:
    """The catalog's sentence for `key`, or "" when it has none."""
    try:
        translated = translator_of(request)(key, **values)
    except (KeyError, IndexError):  # an entry naming a value this answer lacks
        return ""
    return "" if translated == key else translated


WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
    "octobre", "novembre", "décembre",
)  # fmt: skip
# How services write amounts and days in their sentences (services/billing/money.py,
# bookings' say_day and describe_deadline): « 1 234,50 € », « mercredi 21/04/2027 »,
# « mardi 10 mars 2026 à 10:00 ».
FRENCH_AMOUNT = re.compile(r"(-?)(\d{1,3}(?:[\u202f\u00a0 ]\d{3})*),(\d{2})\u00a0€")
FRENCH_DAY = re.compile(rf"(?:({'|'.join(WEEKDAYS)}) )?(\d{{2}})/(\d{{2}})/(\d{{4}})")
FRENCH_DEADLINE = re.compile(
    rf"({'|'.join(WEEKDAYS)}) (\d{{1,2}}) ({'|'.join(MONTHS)}) (\d{{4}}) à (\d{{2}}):(\d{{2}})"
)


def _value(_: Translator, text: str, depth: int = 1) -> str:
    """A value read from a service's French sentence, as the page's language writes it:
    a known word (« demandée ») or value template (`value:…`) translated, amounts and days
    rewritten, data as it is."""
    formats = formats_in(_.language)
    if _(text) != text:
        return _(text)
    if depth <= 3 and (filled := _fill(_, _.values + _.sentences, text, depth)):
        return filled

    def amount(found: re.Match[str]) -> str:
        cents = int(re.sub(r"\D", "", found[2])) * 100 + int(found[3])
        return formats.euros(-cents if found[1] else cents)

    def day(found: re.Match[str]) -> str:
        try:
            shown = date(int(found[4]), int(found[3]), int(found[2]))
        except ValueError:
            return found[0]
        return formats.weekday_date(shown) if found[1] else formats.date_text(shown)

    def deadline(found: re.Match[str]) -> str:
        try:
            moment = datetime(
                int(found[4]), MONTHS.index(found[3]) + 1, int(found[2]),
                int(found[5]), int(found[6]),
            )  # fmt: skip
        except ValueError:
            return found[0]
        return formats.long_minute(moment)

    text = FRENCH_DEADLINE.sub(deadline, text)
    text = FRENCH_AMOUNT.sub(amount, text)
    return FRENCH_DAY.sub(day, text)
