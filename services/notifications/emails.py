"""E-mail content: Jinja2 templates in French (English where the account chose it).

Each template (`templates/<language>/<name>.jinja`) defines the blocks `subject`, `text`,
`html` and `link_label`; `layout.html` and `layout.txt` put the structure's name, address
and logo around them. One environment autoescapes everything, so that no value can inject
markup in the HTML part; the subject and the plain text are unescaped afterwards, which
gives back exactly the values (escaping then unescaping is the identity).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency
from markupsafe import Markup

from services.kit.field_labels import field_label
from services.kit.typography import french_html, french_spacing

from .config import NotificationsSettings

TEMPLATES = Path(__file__).parent / "templates"
LANGUAGES = ("fr", "en")
PARIS = ZoneInfo("Europe/Paris")
PORTAL_NAME = {"fr": "Espace Famille", "en": "Family portal"}
FOOTER = {
    "fr": "Ce courriel vous est envoyé par l'Espace Famille. "
    "Merci de ne pas y répondre directement.",
    "en": "This e-mail comes from the family portal. Please do not reply to it directly.",
}
# A staff member's e-mail names the agents' space, where its link leads, not the families'.
STAFF_PORTAL_NAME = {"fr": "Espace des agents", "en": "Staff area"}
STAFF_FOOTER = {
    "fr": "Ce courriel vous est envoyé par l'espace des agents du portail famille. "
    "Merci de ne pas y répondre directement.",
    "en": "This e-mail comes from the staff area of the family portal. "
    "Please do not reply to it directly.",
}
# Written to staff whoever the event's account is (a family's message, the pending requests).
STAFF_TEMPLATES = frozenset({"contact_new_message", "staff_digest"})
LINK_FALLBACK = {
    "fr": "Si le bouton ne fonctionne pas, copiez ce lien dans votre navigateur :",
    "en": "If the button does not work, copy this link into your browser:",
}
# An older event names its fields by code only: the families screens' labels of the usual
# ones (services/families/fields.py), which services/kit/field_labels.py also puts in English.
FIELD_LABELS = {
    "address": "Adresse",
    "address_complement": "Complément d'adresse",
    "postal_code": "Code postal",
    "city": "Commune",
    "phone": "Téléphone du domicile",
    "phone_other": "Autre téléphone",
    "phone_mobile": "Téléphone portable",
    "email": "Courriel",
    "first_name": "Prénom",
    "last_name": "Nom",
    "birth_date": "Date de naissance",
    "quotient": "Quotient familial",
}


@dataclass(frozen=True)
class Rendered:
    """An e-mail ready to be stored and sent."""

    subject: str
    text: str
    html: str
    language: str


FRENCH_VOWELS = frozenset("aeiouyàâäéèêëîïôöùûüÿæœ")


def de_before(name: object) -> str:
    """« de » before « Maïa », « d' » before « Enfant TEST »: French elides it before a vowel
    (the templates' `de_before` filter, put in front of the name)."""
    first = str(name)[:1] if name else ""  # an event without the name: « de »
    return "d'" if first.lower() in FRENCH_VOWELS else "de "


@cache
def environment() -> jinja2.Environment:
    """The templates' environment (one per process; templates are compiled once)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        # Templates ship with the code: no file check on every e-mail.
        auto_reload=False,
        autoescape=True,
        trim_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["de_before"] = de_before
    return env


@cache
def template_exists(name: str, language: str = "fr") -> bool:
    """Whether `name` has a template in `language`."""
    return (TEMPLATES / language / f"{name}.jinja").is_file()


def render(
    name: str,
    *,
    settings: NotificationsSettings,
    language: str = "fr",
    data: dict[str, Any] | None = None,
    link: str | None = None,
    occurred_at: datetime | None = None,
) -> Rendered:
    """The subject, text and HTML of template `name` (French when `language` has none)."""
    if language not in LANGUAGES or not template_exists(name, language):
        language = "fr"
    env = environment()
    template = env.get_template(f"{language}/{name}.jinja")
    data = data or {}
    values = _values(settings, language, data, link, occurred_at)
    if for_staff(name, data):
        values |= {
            "staff": True,
            "portal_name": STAFF_PORTAL_NAME[language],
            "footer": STAFF_FOOTER[language],
        }
    context = template.new_context(values)

    def block(block_name: str) -> str:
        return "".join(template.blocks[block_name](context)).strip()

    subject = " ".join(html.unescape(block("subject")).split())
    body_html = Markup(block("html"))  # noqa: S704 (rendered by the autoescaping environment)
    body_text = html.unescape(block("text"))
    link_label = html.unescape(block("link_label"))
    shared = {**values, "subject": subject, "link_label": link_label}
    html_part = env.get_template("layout.html").render(**shared, body=body_html)
    text_part = html.unescape(env.get_template("layout.txt").render(**shared, body=body_text))
    text = text_part.strip() + "\n"
    if language == "fr":
        # No line break before « : » nor inside « »; plain text with the no-break space only.
        subject = french_spacing(subject, narrow=False)
        text = french_spacing(text, narrow=False)
        html_part = french_html(html_part)
    return Rendered(subject=subject, text=text, html=html_part, language=language)


def for_staff(template: str, data: dict[str, Any]) -> bool:
    """Whether the e-mail goes to a staff member: a staff-only template, or an account event
    (invitation, password) of a staff account (auth's `kind`)."""
    return template in STAFF_TEMPLATES or data.get("kind") == "staff"


def _values(
    settings: NotificationsSettings,
    language: str,
    data: dict[str, Any],
    link: str | None,
    occurred_at: datetime | None,
) -> dict[str, Any]:
    return {
        "language": language,
        "staff": False,
        "data": data,
        "link": link,
        "org": {
            "name": settings.org_name,
            "address": settings.org_address,
            "logo_url": settings.org_logo_url,
        },
        "portal_name": PORTAL_NAME[language],
        "footer": FOOTER[language],
        "link_fallback": LINK_FALLBACK[language],
        "when": format_instant(occurred_at, language) if occurred_at else "",
        "expires": _day_or_instant(data.get("expires_at") or data.get("expires_on"), language),
        "day": _day_or_instant(data.get("date"), language),
        "amount": format_cents(data.get("total_cents", data.get("amount_cents")), language),
        "fields": _field_names(data, language),
        "reason": _reason(data, language),
        "payment_method": _payment_method(data, language),
    }


def _payment_method(data: dict[str, Any], language: str) -> str:
    """How a payment was made, as billing names it in the e-mail's language (its event carries
    both names); nothing in English from an event that has only the French one."""
    key = "method_label_en" if language == "en" else "method_label"
    return str(data.get(key) or "")


# The one refusal reason a producer writes itself rather than staff: the documents service's
# when its antivirus deletes a file (its event carries the signature found).
ANTIVIRUS_REASON_EN = (
    "The antivirus found malicious content in this file: it has been deleted. "
    "Send another copy of the document."
)


def _reason(data: dict[str, Any], language: str) -> str:
    """A refusal's reason: staff's own words as typed, the antivirus's in the e-mail's language."""
    if language == "en" and data.get("antivirus_signature"):
        return ANTIVIRUS_REASON_EN
    return str(data.get("reason") or "")


def _field_names(data: dict[str, Any], language: str) -> str:
    """The fields an event names, as a sentence shows them: the producer's own French labels
    when it sends them (families sends those of its screens), else the known names of their
    codes; in English, their translations shared with the gateway's pages."""
    labels = [str(label) for label in data.get("labels") or [] if label]
    if not labels:
        labels = [FIELD_LABELS.get(str(f), str(f)) for f in data.get("fields") or [] if f]
    labels = [field_label(label, language) for label in labels]
    # "Téléphone du domicile" reads "téléphone du domicile" mid-sentence, "E-mail" "e-mail";
    # "PAI" stays.
    return ", ".join(
        label if label[1:2].isupper() else label[0].lower() + label[1:] for label in labels
    )


# English writes the month's name, as the English pages do (gateway/formats.py, en_GB): an
# English reader may take « 05/04/2026 » for May the 4th.
ENGLISH_DAY = "d MMMM y"
ENGLISH_MINUTE = "d MMMM y 'at' HH:mm"


def format_instant(moment: datetime, language: str = "fr") -> str:
    """`28/11/2026 à 18:05` in Paris time (`28 November 2026 at 18:05` in English)."""
    local = moment.astimezone(PARIS)
    if language == "en":
        return format_datetime(local, ENGLISH_MINUTE, locale="en_GB")
    return local.strftime("%d/%m/%Y à %H:%M")


def _day_or_instant(value: Any, language: str) -> str:
    if not isinstance(value, str) or not value:
        return ""
    try:
        if "T" in value:
            return format_instant(datetime.fromisoformat(value), language)
        day = date.fromisoformat(value)
    except ValueError:
        return ""
    if language == "en":
        return format_date(day, ENGLISH_DAY, locale="en_GB")
    return day.strftime("%d/%m/%Y")


def format_cents(cents: Any, language: str = "fr") -> str:
    """`35,00 €` from 3500 (integer cents), `€35.00` in English as the English pages write it
    (gateway/formats.py: en_GB); empty when not a number."""
    if not isinstance(cents, int) or isinstance(cents, bool):
        return ""
    if language == "en":
        # Decimal, never float: the cents are exact, and scaleb keeps them so.
        return format_currency(Decimal(cents).scaleb(-2), "EUR", locale="en_GB")
    euros, rest = divmod(abs(cents), 100)
    sign = "-" if cents < 0 else ""
    grouped = f"{euros:,}".replace(",", "\u202f")
    return f"{sign}{grouped},{rest:02d} €"
