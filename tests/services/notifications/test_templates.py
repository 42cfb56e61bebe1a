"""Every French e-mail has an English twin: same blocks, same variables, rendered from the same
sample data as the French one (the event cases of `test_emails.py`, the contact and digest data
their writers build), in English."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime
from typing import Any

import jinja2
import jinja2.meta
import pytest
from babel.dates import format_date

from services.notifications.emails import (
    ENGLISH_DAY,
    TEMPLATES,
    Rendered,
    environment,
    format_cents,
    render,
)
from services.notifications.events import MAILERS

from .factories import SETTINGS
from .test_emails import CASES

# What contact.py and digest.py put in `data` (they write no event, so CASES has none).
CONTACT = {
    "subject": "Inscription cantine",
    "body": "Est-il possible d'inscrire Enfant TEST à la cantine ?\nMerci.",
    "recipient_name": "Guichet unique inscriptions",
    "family_name": "TEST",
    "sender_email": "famille.test@example.org",
}
OTHER_SAMPLES: dict[str, dict[str, Any]] = {
    "contact_acknowledged": CONTACT,
    "contact_new_message": CONTACT,
    "contact_reply": CONTACT,
    "staff_digest": {
        "total": 3,
        "lines": [
            {"label": "Demandes d'inscription", "count": 2, "oldest": "02/03/2026"},
            {"label": "Documents à valider", "count": 1, "oldest": "05/03/2026"},
        ],
    },
}
# Whole words that only a French text uses (the sample data itself is removed first).
FRENCH_WORDS = re.compile(
    r"\b(Bonjour|Motif|votre|vos|été|acceptée?|refusée?|Objet|Réservation|"
    r"demande|famille|Espace Famille|le document|Voir|Consulter)\b"
)


def samples() -> dict[str, dict[str, Any]]:
    """Template name → the data its French version is tested with."""
    by_template = {MAILERS[event].template: data for event, (_s, data, *_r) in CASES.items()}
    by_template["invitation"] = {"expires_at": "2026-12-05T10:00:00+00:00"}
    return {**by_template, **OTHER_SAMPLES}


def french_templates() -> list[str]:
    return sorted(path.stem for path in (TEMPLATES / "fr").glob("*.jinja"))


def test_every_french_template_has_a_sample() -> None:
    assert set(french_templates()) == set(samples())


def variables_and_blocks(language: str, name: str) -> tuple[set[str], set[str]]:
    source = (TEMPLATES / language / f"{name}.jinja").read_text(encoding="utf-8")
    tree = environment().parse(source)
    used = jinja2.meta.find_undeclared_variables(tree)
    attributes = {
        f"{node.node.name}.{node.attr}"
        for node in tree.find_all(jinja2.nodes.Getattr)
        if isinstance(node.node, jinja2.nodes.Name)
    }
    blocks = {block.name for block in tree.find_all(jinja2.nodes.Block)}
    return used | attributes, blocks


@pytest.mark.parametrize("name", french_templates())
def test_the_english_twin_has_the_same_blocks_and_variables(name: str) -> None:
    assert (TEMPLATES / "en" / f"{name}.jinja").is_file(), f"templates/en/{name}.jinja missing"
    assert variables_and_blocks("en", name) == variables_and_blocks("fr", name)


@pytest.mark.parametrize("name", french_templates())
def test_the_english_twin_renders_the_french_sample_in_english(name: str) -> None:
    data = samples()[name]
    link = "https://portail.example.org/page"
    when = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    french = render(name, settings=SETTINGS, language="fr", data=data, link=link, occurred_at=when)
    english = render(name, settings=SETTINGS, language="en", data=data, link=link, occurred_at=when)

    assert english.language == "en" and french.language == "fr"
    assert english.subject and english.subject != french.subject
    # Every value the French e-mail shows, the English one shows too.
    # (an amount or a date is written the English way: the lists are parallel)
    shown = [
        en for fr, en in zip(_values(data), _values(data, "en"), strict=True) if fr in french.text
    ]
    assert shown == [v for v in shown if v in english.text]
    assert link in english.text and f'href="{link}"' in english.html
    assert '<html lang="en">' in english.html
    assert FRENCH_WORDS.search(_prose(french)), "the check below would find French"
    assert not FRENCH_WORDS.search(_prose(english, data)), english.text


def _prose(email: Rendered, data: dict[str, Any] | None = None) -> str:
    """The subject and text without the sample's values (which stay as they were written)."""
    prose = email.subject + email.text
    for value in _values(data or {}, email.language):
        prose = prose.replace(value, "")
    return prose.replace(SETTINGS.org_address, "").replace(SETTINGS.org_name, "")


# A value a producer gives in both languages (billing's payment method): the French one in
# French, its twin in English.
ENGLISH_TWINS = {"method_label": "method_label_en"}


def _values(data: dict[str, Any], language: str = "fr") -> list[str]:
    """The sample's strings, as a rendered e-mail in `language` may show them (dates and sums
    formatted)."""
    found: list[str] = []
    for key, value in data.items():
        if key in ENGLISH_TWINS.values():
            continue  # shown in place of its French twin
        if language == "en" and key in ENGLISH_TWINS:
            value = data.get(ENGLISH_TWINS[key], value)
        if isinstance(value, str) and not value.startswith("20"):
            found.append(value.split("\n")[0])
        elif isinstance(value, list):
            found += [item["label"] for item in value if isinstance(item, dict)]
    for key in ("date", "expires_on"):
        if key in data:
            day = date.fromisoformat(data[key])
            english = format_date(day, ENGLISH_DAY, locale="en_GB")
            found.append(english if language == "en" else day.strftime("%d/%m/%Y"))
    for key in ("total_cents", "amount_cents"):
        if key in data:
            found.append(format_cents(data[key], language))
    return found


@pytest.mark.parametrize(
    ("name", "said"),
    [("Enfant TEST", "d'Enfant TEST"), ("Élodie", "d'Élodie"), ("Maïa", "de Maïa")],
)
@pytest.mark.parametrize(
    "template",
    ["registration_accepted", "reservation_confirmed", "document_accepted", "document_expiring"],
)
def test_french_elides_de_before_a_name_starting_with_a_vowel(
    template: str, name: str, said: str
) -> None:
    data = {**samples()[template], "person_name": name}
    mail = render(template, settings=SETTINGS, language="fr", data=data)
    assert said in mail.text
    page = html.unescape(mail.html)
    assert said in re.sub(r"</?strong>", "", page)
    assert "de Enfant" not in mail.text + page and "d'Maïa" not in mail.text + page
