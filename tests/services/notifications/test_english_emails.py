"""An account that chose English gets e-mails with no French left in what the portal writes:
the fields of a family change request, sent by the families service as French labels (or as
codes in an older event), the amounts of invoices and payments, the dates, and the reason
the documents service writes itself when its antivirus refuses a file reach a real SMTP
server in English."""

from __future__ import annotations

import re
import uuid
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import pytest

from services.families.fields import FAMILY_FIELDS, PERSON_FIELDS
from services.kit.database import Database
from services.kit.field_labels import english_field_labels

from .factories import invited, of_type, settings_for
from .mailing import deliver, send_pending
from .smtp_server import SmtpServer

PARENT = "parent.en@example.org"
# The French the families service writes in a change request's labels.
FRENCH_FIELD_WORDS = re.compile(
    r"(?i)\b(complément|adresse|autre|téléphone|domicile|courriel|commune|régime)\b"
)


async def english_parent(database: Database, settings: Any, family_id: str) -> str:
    """A parent of `family_id` whose account chose English (auth's invitation says so)."""
    account = str(uuid.uuid4())
    await deliver(database, settings, invited(family_id, PARENT, account_id=account, language="en"))
    return account


def parts_of(message: EmailMessage) -> tuple[str, str]:
    """The plain text (one line) and the HTML of a received e-mail."""
    text, html = (message.get_body(preferencelist=(kind,)) for kind in ("plain", "html"))
    assert text is not None and html is not None
    return " ".join(str(text.get_content()).split()), str(html.get_content())


async def received_for(
    database: Database,
    smtp: SmtpServer,
    event_type: str,
    source: str = "families",
    occurred_at: str | None = None,
    **data: Any,
) -> tuple[str, str]:
    """Deliver `event_type` to an English parent's family and send; the e-mail's parts."""
    settings = settings_for(smtp.port)
    family = str(uuid.uuid4())
    account = await english_parent(database, settings, family)
    message = of_type(event_type, family, source=source, account_id=account, **data)
    message["occurred_at"] = occurred_at or message["occurred_at"]
    await deliver(database, settings, message)
    await send_pending(database, settings)
    [mail] = [
        m for m in smtp.inbox.to(PARENT) if str(m["Message-ID"]).startswith(f"<{message['id']}.")
    ]
    assert mail["Content-Language"] == "en"
    return parts_of(mail)


@pytest.mark.parametrize(
    ("event_type", "decision"),
    [("family.change_accepted", "accepted"), ("family.change_refused", "refused")],
)
async def test_a_change_decision_names_the_fields_in_english(
    database: Database, smtp: SmtpServer, event_type: str, decision: str
) -> None:
    text, html = await received_for(
        database,
        smtp,
        event_type,
        request_id=str(uuid.uuid4()),
        target="family",
        fields=["address_complement", "phone_other", "allocataire_regime"],
        labels=["Complément d'adresse", "Autre téléphone", "Régime (CAF, MSA…)"],
        reason="Justificatif manquant" if decision == "refused" else None,
    )

    fields = "(address line 2, other phone, benefits scheme (CAF, MSA…))"
    assert f"Your request to change your family's details {fields} was {decision}" in text
    assert fields in html
    assert not FRENCH_FIELD_WORDS.search(text), text
    assert not FRENCH_FIELD_WORDS.search(html), html


async def test_an_older_event_with_field_codes_only_names_them_in_english(
    database: Database, smtp: SmtpServer
) -> None:
    text, html = await received_for(
        database, smtp, "family.change_accepted", fields=["phone", "city", "email"]
    )

    assert "(home phone, town, e-mail) was accepted" in text
    assert "(home phone, town, e-mail)" in html
    assert not FRENCH_FIELD_WORDS.search(text), text


@pytest.mark.parametrize(
    ("event_type", "data", "words", "amount"),
    [
        ("invoice.issued", {"number": "F1", "total_cents": 123450}, "of {} is", "€1,234.50"),
        ("payment.received", {"receipt_number": "R7", "amount_cents": 1500}, "of {} (", "€15.00"),
    ],
)  # fmt: skip
async def test_amounts_are_written_the_english_way(
    database: Database,
    smtp: SmtpServer,
    event_type: str,
    data: dict[str, Any],
    words: str,
    amount: str,
) -> None:
    text, html = await received_for(database, smtp, event_type, source="billing", **data)

    assert words.format(amount) in text
    assert f"<strong>{amount}</strong>" in html
    # « 1 234,50 € », « 15,00 € »: a comma before the cents, the sign after the figure.
    assert not re.search(r"\d,\d\d\s*€", text + html), text


# « 05/04/2026 », « 02/03/2026 à 09:00 »: the French figures, or the French « à ».
FRENCH_DATE = re.compile(r"\d\d/\d\d/\d{4}|\bà\b")


BOOKED = {"person_name": "Enfant TEST", "date": "2026-04-05"}
EXPIRING = {"document_type_name": "Attestation", "expires_on": "2026-12-31"}


@pytest.mark.parametrize(
    ("event_type", "source", "data", "words", "day"),
    [
        ("reservation.confirmed", "bookings", BOOKED, "on {} is confirmed", "5 April 2026"),
        ("reservation.refused", "bookings", BOOKED, "on {} was refused", "5 April 2026"),
        ("reservation.place_freed", "bookings", BOOKED, "on {}, now has", "5 April 2026"),
        ("document.expiring", "documents", EXPIRING, "expires on {}", "31 December 2026"),
        ("account.password_changed", "auth", {}, "changed on {}.", "2 March 2026 at 09:00"),
    ],
)  # fmt: skip
async def test_dates_name_the_month_in_english(
    database: Database,
    smtp: SmtpServer,
    event_type: str,
    source: str,
    data: dict[str, Any],
    words: str,
    day: str,
) -> None:
    text, html = await received_for(
        database, smtp, event_type, source=source, occurred_at="2026-03-02T08:00:00+00:00", **data
    )

    assert words.format(day) in text
    assert day in html
    assert not FRENCH_DATE.search(text + html), text


async def test_an_invitation_says_until_when_in_english(
    database: Database, smtp: SmtpServer
) -> None:
    await english_parent(database, settings_for(smtp.port), str(uuid.uuid4()))
    await send_pending(database, settings_for(smtp.port))

    [mail] = smtp.inbox.to(PARENT)
    text, html = parts_of(mail)
    assert "(valid until 5 December 2026 at 11:00)" in text
    assert "(valid until 5 December 2026 at 11:00)" in html
    assert not FRENCH_DATE.search(text + html), text


async def test_the_antivirus_refusal_gives_its_reason_in_english(
    database: Database, smtp: SmtpServer
) -> None:
    french_reason = (  # as services/documents/service.py writes it
        "L'antivirus a détecté un contenu malveillant dans ce fichier : il a été supprimé. "
        "Envoyez une autre copie du document."
    )
    text, html = await received_for(
        database,
        smtp,
        "document.refused",
        source="documents",
        document_type_name="Attestation",
        reason=french_reason,
        antivirus_signature="Eicar-Signature",
    )

    assert "Reason: The antivirus found malicious content in this file" in text
    assert "The antivirus found malicious content in this file" in html
    assert not re.search(r"(?i)\b(antivirus a|détecté|malveillant|fichier|envoyez)\b", text + html)


async def test_a_reason_typed_by_staff_stays_as_typed(database: Database, smtp: SmtpServer) -> None:
    text, _ = await received_for(
        database,
        smtp,
        "document.refused",
        source="documents",
        document_type_name="Attestation",
        reason="Pièce illisible",
    )

    assert "Reason: Pièce illisible" in text


def test_every_field_label_of_the_families_catalogue_has_its_english() -> None:
    labels = {spec.label for spec in FAMILY_FIELDS + PERSON_FIELDS}
    missing = sorted(labels - set(english_field_labels()))
    assert not missing
    unused = sorted(set(english_field_labels()) - labels)
    assert not unused, "only the families' field labels belong in the shared catalog"


ENGLISH_LINK = re.compile(r'href="(https://[^"]+)"')


async def test_the_links_of_an_english_e_mail_open_the_portal_in_english(
    database: Database, smtp: SmtpServer
) -> None:
    """A browser that never chose English would otherwise land on French pages."""
    _, html = await received_for(
        database, smtp, "invoice.issued", source="billing", number="F1", total_cents=100
    )
    [(invitation_text, invitation_html)] = [
        parts for parts in map(parts_of, smtp.inbox.to(PARENT)) if "connexion" in parts[1]
    ]

    links = ENGLISH_LINK.findall(html)
    assert links and all(urlsplit(link).query == "lang=en" for link in links), links
    # The invitation's own link keeps its token and adds the language.
    assert "/premiere-connexion?jeton=SECRET&amp;lang=en" in invitation_html
    assert "/premiere-connexion?jeton=SECRET&lang=en" in invitation_text


async def test_the_links_of_a_french_e_mail_stay_as_they_are(
    database: Database, smtp: SmtpServer
) -> None:
    settings = settings_for(smtp.port)
    family = str(uuid.uuid4())
    await deliver(database, settings, invited(family, "parent.fr@example.org"))
    await send_pending(database, settings)

    [mail] = smtp.inbox.to("parent.fr@example.org")
    text, html = parts_of(mail)
    assert "/premiere-connexion?jeton=SECRET " in text + " "
    assert "lang=" not in text + " ".join(ENGLISH_LINK.findall(html))
