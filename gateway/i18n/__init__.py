"""French first, English on request: small JSON catalogs keyed by the French text.

A language's catalog is every `gateway/i18n/<lang>.json` and `<lang>.<anything>.json` merged,
so that pages added by others bring their own `en.<page>.json` without editing ours, over
the families' field labels the e-mails share (`services/kit/field_labels.en.json`). French
needs no catalog: the French text is the key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from services.kit.field_labels import english_field_labels
from services.kit.typography import french_spacing

from ..cookies import add_cookie_header
from ..keys import GATEWAY_SETTINGS, LANGUAGE, TRANSLATOR
from ..language_preference import remember_account_language

CATALOG_DIR = Path(__file__).parent
LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
LANG_COOKIE = "lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600


# A catalog key `sentence:<French template>` translates a service's sentence that carries
# values (« Enfant TEST aura 2 ans le … »): `{name}` in the template matches any text.
# `value:<French template>` does the same for a value inside such a sentence only (« 3
# inscriptions (dont 1 en cours ou acceptée) »): tried on a whole sentence, a template as
# loose as « {a}, {b} » would claim sentences it knows nothing of.
SENTENCE = "sentence:"
VALUE = "value:"


class Translator:
    """Translates French text into one language; unknown text stays French.

    French comes out with its typography (no line break before « : » or inside « »,
    services/kit/typography.py): the catalogs' keys, and the text the templates hand over,
    keep ordinary spaces, so that an English lookup finds its key."""

    def __init__(self, language: str, catalog: dict[str, str]) -> None:
        self.language = language
        self._catalog = catalog
        self.sentences = _templates(catalog, SENTENCE)
        self.values = _templates(catalog, VALUE)

    def __call__(self, text: str, **values: object) -> str:
        """The translation of `text`, with `{name}` placeholders filled from `values`."""
        translated = self._catalog.get(text, text)
        if values:
            translated = translated.format(**values)
        return french_spacing(translated) if self.language == "fr" else translated

    def plural(self, singular: str, plural: str, count: int, **values: object) -> str:
        """`singular` or `plural` by `count` (French: 0 and 1 are singular), translated."""
        text = singular if (count <= 1 if self.language == "fr" else count == 1) else plural
        return self(text, count=count, **values)


def _templates(catalog: dict[str, str], prefix: str) -> list[tuple[re.Pattern[str], str]]:
    """(pattern, translation) of the catalog's `prefix` templates, the most written-out first:
    « {name} a déjà une inscription {state} … » before a shorter one the same sentence would
    also match."""
    templates = [key.removeprefix(prefix) for key in catalog if key.startswith(prefix)]
    templates.sort(key=lambda t: len(re.sub(r"\{\w+\}", "", t)), reverse=True)
    return [(_template_pattern(t), catalog[prefix + t]) for t in templates]


def _template_pattern(template: str) -> re.Pattern[str]:
    """`{name} a {age} ans.` → a pattern whose groups `name`, `age` take the values."""
    parts = re.split(r"\{(\w+)\}", template)
    pattern = "".join(
        re.escape(part) if position % 2 == 0 else f"(?P<{part}>.+?)"
        for position, part in enumerate(parts)
    )
    return re.compile(pattern, re.DOTALL)


def load_catalogs(directory: Path = CATALOG_DIR) -> dict[str, Translator]:
    """A translator per supported language."""
    translators = {}
    for language in LANGUAGES:
        # The families' field labels, shared with the e-mails (services/kit/field_labels.py).
        catalog: dict[str, str] = dict(english_field_labels()) if language == "en" else {}
        for path in sorted(directory.glob(f"{language}.json")) + sorted(
            directory.glob(f"{language}.*.json")
        ):
            catalog.update(json.loads(path.read_text(encoding="utf-8")))
        translators[language] = Translator(language, catalog)
    return translators


TRANSLATORS: web.AppKey[dict[str, Translator]] = web.AppKey("translators")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _chosen_language(request: web.Request) -> tuple[str, bool]:
    asked = request.query.get("lang")
    if asked in LANGUAGES:
        return asked, True
    cookie = request.cookies.get(LANG_COOKIE)
    return (cookie if cookie in LANGUAGES else DEFAULT_LANGUAGE), False


@web.middleware
async def language_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """`?lang=en` switches (remembered in the `lang` cookie, and on a signed-in visitor's
    account for their e-mails); French by default."""
    language, switched = _chosen_language(request)
    request[LANGUAGE] = language
    request[TRANSLATOR] = request.app[TRANSLATORS][language]
    response = await handler(request)
    # After the handler: the session middleware (inner) has only then found the visitor.
    if switched and request.cookies.get(LANG_COOKIE) != language:
        await remember_account_language(request, language)
    return response


async def remember_language(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: keep a `?lang=` choice in a cookie, whatever the response."""
    language, switched = _chosen_language(request)
    if switched and request.cookies.get(LANG_COOKIE) != language:
        add_cookie_header(
            response,
            LANG_COOKIE,
            language,
            path="/",
            max_age=LANG_COOKIE_MAX_AGE,
            httponly=True,
            secure=request.app[GATEWAY_SETTINGS].secure_cookies,
            samesite="Lax",
        )


def translator_of(request: web.Request) -> Translator:
    """This request's translator (French when the middleware did not run, e.g. early errors)."""
    found: Translator | None = request.get(TRANSLATOR)
    if found is not None:
        return found
    return request.app[TRANSLATORS][DEFAULT_LANGUAGE]
