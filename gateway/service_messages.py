"""Services' own messages on the pages, in the page's language.

Services write their messages for people in French (a refusal's reason, a problem's
`detail`), often with names and dates in them. A French page shows them as they are. An
English page shows, in this order:
1. the catalog's translation of the exact sentence, for the fixed ones (« Activité inconnue. »);
2. else the catalog's sentence for what the answer says happened — the problem's `type`
   (`problem:<slug>`), a refused reservation change's `code` (`refusal:<code>`) — filled with
   the values the answer carries apart from the sentence (a change's day, unit, activity);
3. else the service's French, as it is: better than a message that says less.
So the service's French sentence stays the French text, and no service learns English.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import web

from .calls import problem_detail
from .i18n import translator_of


def message_text(request: web.Request, message: str) -> str:
    """A service's sentence in the page's language when the catalog knows it, else as it is."""
    return translator_of(request)(message)


def problem_text(request: web.Request, data: Any, fallback: str) -> str:
    """A service's problem for a page: its `detail` (or the page's `fallback`), translated by
    sentence or by `type` on an English page."""
    detail = problem_detail(data, fallback)
    _ = translator_of(request)
    if _.language == "fr":
        return detail
    if _(detail) != detail:
        return _(detail)
    slug = str(data.get("type", "")).rsplit("/", 1)[-1] if isinstance(data, dict) else ""
    return (_by_key(request, f"problem:{slug}") if slug else "") or detail


def change_result_label(request: web.Request, result: dict[str, Any]) -> str:
    """What became of one reservation change ("réservé", "refusé : complet …"), translated by
    state or by refusal `code` on an English page."""
    label = str(result.get("label") or "")
    _ = translator_of(request)
    if _.language == "fr" or result.get("ok"):
        return _(label)
    key = f"refusal:{result.get('code') or ''}"
    day = result.get("day")
    values = {
        "day": _english_day(day) if isinstance(day, str) else "",
        "unit": result.get("unit_label") or "",
        "activity": result.get("activity_name") or "",
    }
    return _by_key(request, key, **values) or label


# The problems an upload can meet; the upload script gets their English sentences by type.
UPLOAD_PROBLEMS = (
    "file-refused", "upload-too-large", "uploads-busy", "person-not-found",
    "document-type-not-found", "members-unavailable", "storage-unavailable",
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


def _english_day(value: str) -> str:
    try:
        return date.fromisoformat(value).strftime("%a %d/%m/%Y")
    except ValueError:
        return value
