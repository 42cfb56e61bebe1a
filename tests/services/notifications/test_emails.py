"""Every event that calls for an e-mail gives its journal line and exactly one e-mail, at a
real SMTP server, with the right content; failures are retried or recorded as the rules say."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import func, select, update

from services.kit.database import Database
from services.kit.outbox import utcnow
from services.kit.typography import french_spacing
from services.notifications.events import MAILERS
from services.notifications.models import JournalEntry, OutgoingEmail
from services.notifications.sending import SendOutcome
from services.notifications.smtp import SmtpSender

from .factories import invited, of_type, settings_for
from .mailing import deliver, emails, send_one, send_pending
from .smtp_server import SmtpServer

BASE = "https://portail.example.org"
PARENT = "parent.test@example.org"

# event type → (source, data, words of the subject, page linked, words of the text)
CASES: dict[str, tuple[str, dict[str, Any], str, str, str]] = {
    "account.invited": ("auth", {}, "Créez votre mot de passe", "/premiere-connexion?jeton=", "créez votre mot de passe"),  # noqa: E501
    "account.password_reset_requested": ("auth", {"email": PARENT, "link": f"{BASE}/reinitialisation?jeton=R"}, "Réinitialisation de votre mot de passe", "/reinitialisation?jeton=R", "choisir un nouveau mot de passe"),  # noqa: E501
    "account.password_changed": ("auth", {}, "Votre mot de passe a été modifié", "/mot-de-passe", "a été modifié le"),  # noqa: E501
    "account.password_reset_completed": ("auth", {}, "Votre mot de passe a été modifié", "/mot-de-passe", "Toutes vos autres sessions ont été fermées"),  # noqa: E501
    "family.change_accepted": ("families", {"fields": ["phone"]}, "demande de modification a été acceptée", "/famille", "(téléphone du domicile) a été acceptée"),  # noqa: E501
    "family.change_refused": ("families", {"fields": ["email"], "reason": "Adresse illisible"}, "demande de modification a été refusée", "/famille", "Motif : Adresse illisible"),  # noqa: E501
    "registration.accepted": ("bookings", {"person_name": "Enfant TEST", "activity_name": "ALSH Josta Leku", "period_name": "Vacances de printemps 2023"}, "Demande d'inscription acceptée", "/inscriptions", "Enfant TEST à l'activité ALSH Josta Leku (Vacances de printemps 2023) a été acceptée"),  # noqa: E501
    "registration.refused": ("bookings", {"person_name": "Enfant TEST", "activity_name": "ALSH Josta Leku", "reason": "complet"}, "Demande d'inscription refusée", "/inscriptions", "Motif : complet"),  # noqa: E501
    "reservation.confirmed": ("bookings", {"person_name": "Enfant TEST", "activity_name": "ALSH Josta Leku", "date": "2026-04-15", "unit_name": "journée"}, "Réservation confirmée", "/reservations", "le 15/04/2026 (journée) est confirmée"),  # noqa: E501
    "reservation.refused": ("bookings", {"person_name": "Enfant TEST", "date": "2026-04-15", "reason": "délai de prévenance dépassé"}, "Réservation refusée", "/reservations", "Motif : délai de prévenance dépassé"),  # noqa: E501
    "reservation.place_freed": ("bookings", {"person_name": "Enfant TEST", "date": "2026-04-16"}, "Une place s'est libérée", "/reservations", "en liste d'attente"),  # noqa: E501
    "reservation.cancelled": ("bookings", {"person_name": "Enfant TEST", "activity_name": "ALSH Josta Leku", "date": "2026-12-16", "unit_name": "Journée", "reason": "Fermeture : Grève du personnel", "by_structure": True}, "Réservation annulée par la structure", "/reservations", "le 16/12/2026 (Journée) a été annulée par la structure : elle ne vous sera pas facturée. Motif : Fermeture : Grève du personnel"),  # noqa: E501
    "document.accepted": ("documents", {"document_type_name": "Photocopie des vaccinations", "person_name": "Enfant TEST"}, "Document accepté : Photocopie des vaccinations", "/documents", "a été accepté par la structure"),  # noqa: E501
    "document.refused": ("documents", {"document_type_name": "Photocopie des vaccinations", "reason": "illisible"}, "Document refusé : Photocopie des vaccinations", "/documents", "Motif : illisible"),  # noqa: E501
    "document.expiring": ("documents", {"document_type_name": "Attestation d'assurance", "expires_on": "2026-12-31"}, "Document bientôt expiré", "/documents", "expire le 31/12/2026"),  # noqa: E501
    "invoice.issued": ("billing", {"number": "F202603-0001", "total_cents": 3500}, "Nouvelle facture disponible : F202603-0001", "/factures", "d'un montant de 35,00 €"),  # noqa: E501
    "payment.received": ("billing", {"receipt_number": "R-0007", "amount_cents": 1500, "method": "cheque", "method_label": "Chèque", "method_label_en": "Cheque"}, "Paiement reçu", "/factures", "votre paiement de 15,00 € (reçu n° R-0007). Merci. Mode de règlement : Chèque"),  # noqa: E501
}  # fmt: skip


def test_every_mail_rule_has_a_content_test() -> None:
    assert set(CASES) == set(MAILERS)


async def known_parent(database: Database, settings: Any, family_id: str) -> tuple[str, str]:
    """Teach the consumer the family's parent (auth's invitation); returns (account, event id)."""
    account = str(uuid.uuid4())
    message = invited(family_id, PARENT, account_id=account)
    await deliver(database, settings, message)
    return account, message["id"]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return " ".join(str(part.get_content()).split())


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


@pytest.mark.parametrize("event_type", sorted(CASES))
async def test_an_event_gives_its_journal_line_and_one_french_email(
    database: Database, smtp: SmtpServer, event_type: str
) -> None:
    settings = settings_for(smtp.port)
    family = str(uuid.uuid4())
    account, _ = await known_parent(database, settings, family)
    source, data, subject, page, words = CASES[event_type]
    if event_type == "account.invited":
        message = invited(family, PARENT, account_id=account)
    else:
        message = of_type(event_type, family, source=source, account_id=account, **data)

    first = await deliver(database, settings, message)
    again = await deliver(database, settings, message)  # a re-delivery owes nothing more
    outcomes = await send_pending(database, settings)

    assert len(first.emails) == 1 and again.emails == ()
    assert outcomes == [SendOutcome.SENT] * len(outcomes)
    received = [
        m for m in smtp.inbox.messages if str(m["Message-ID"]).startswith(f"<{message['id']}.")
    ]
    assert len(received) == 1, [m["Subject"] for m in smtp.inbox.messages]
    mail = received[0]
    assert mail["Message-ID"] == f"<{message['id']}.0@hasparren.example.org>"
    assert mail["To"] == PARENT
    assert french_spacing(subject, narrow=False) in str(mail["Subject"])
    text = text_of(mail)
    assert words in text
    assert "Mairie de Hasparren" in text and "64240 Hasparren" in text
    link = BASE + page
    assert link in text and f'href="{link}' in html_of(mail)
    async with database.sessions() as session:
        lines = await session.scalar(
            select(func.count())
            .select_from(JournalEntry)
            .where(JournalEntry.event_id == message["id"])
        )
    expects_line = event_type != "account.invited"
    assert lines == (1 if expects_line else 0)


async def test_values_are_escaped_in_the_html_part_and_kept_whole_in_the_text(
    database: Database, smtp: SmtpServer
) -> None:
    settings = settings_for(smtp.port)
    family = str(uuid.uuid4())
    await known_parent(database, settings, family)
    reason = 'Pièce <script>alert("x")</script> & illisible'
    refusal = of_type(
        "document.refused", family, source="documents", document_type_name="Livret", reason=reason
    )
    await deliver(database, settings, refusal)

    await send_pending(database, settings)

    mail = smtp.inbox.messages[-1]
    assert f"Motif : {reason}" in text_of(mail)
    assert "<script>" not in html_of(mail)
    assert "&lt;script&gt;" in html_of(mail)


async def test_a_familys_own_cancellation_sends_no_email_a_closure_does(
    database: Database, smtp: SmtpServer
) -> None:
    settings = settings_for(smtp.port)
    family = str(uuid.uuid4())
    account, _ = await known_parent(database, settings, family)
    day = {"person_name": "Enfant TEST", "activity_name": "ALSH", "date": "2026-12-16"}
    own = of_type("reservation.cancelled", family, source="bookings", **day)
    closure = of_type(
        "reservation.cancelled",
        family,
        source="bookings",
        account_id=account,
        reason="Fermeture : Grève",
        by_structure=True,
        **day,
    )

    assert (await deliver(database, settings, own)).emails == ()
    assert len((await deliver(database, settings, closure)).emails) == 1
    async with database.sessions() as session:
        journal = await session.scalar(
            select(func.count())
            .select_from(JournalEntry)
            .where(JournalEntry.event_id.in_([own["id"], closure["id"]]))
        )
    assert journal == 2  # both stay in « Historique de mes actions »


async def test_english_where_the_event_says_the_account_chose_it(
    database: Database, smtp: SmtpServer
) -> None:
    settings = settings_for(smtp.port)
    message = invited(str(uuid.uuid4()), "parent.en@example.org", language="en")

    await deliver(database, settings, message)
    await send_pending(database, settings)

    mail = smtp.inbox.to("parent.en@example.org")[0]
    assert mail["Subject"] == "Create your password for the family portal"
    assert mail["Content-Language"] == "en"


async def test_a_family_with_two_parents_gets_one_email_each(
    database: Database, smtp: SmtpServer
) -> None:
    settings = settings_for(smtp.port)
    family = str(uuid.uuid4())
    await deliver(database, settings, invited(family, "b.parent@example.org"))
    await deliver(database, settings, invited(family, "a.parent@example.org"))
    decision = of_type("registration.accepted", family, source="bookings", person_name="Enfant")

    delivery = await deliver(database, settings, decision)
    await send_pending(database, settings)

    assert len(delivery.emails) == 2
    ids = sorted(
        str(m["Message-ID"]) for m in smtp.inbox.messages if decision["id"] in str(m["Message-ID"])
    )
    assert ids == [
        f"<{decision['id']}.0@hasparren.example.org>",
        f"<{decision['id']}.1@hasparren.example.org>",
    ]


async def test_optional_emails_follow_the_familys_choice_and_mandatory_ones_always_go(
    database: Database, smtp: SmtpServer, service_client: Any, signer: Any
) -> None:
    settings = settings_for(smtp.port)
    family = str(uuid.uuid4())
    await known_parent(database, settings, family)
    client = await service_client("notifications", email_relay_enabled=False)
    parent = signer.headers(families=[family])

    turned_off = await client.put(
        f"/families/{family}/email-preferences",
        json={"categories": {"factures": False}},
        headers=parent,
    )
    mandatory = await client.put(
        f"/families/{family}/email-preferences",
        json={"categories": {"obligatoire": False}},
        headers=parent,
    )
    invoice = await deliver(
        database, settings, of_type("invoice.issued", family, source="billing", number="F1")
    )
    refusal = await deliver(
        database, settings, of_type("registration.refused", family, source="bookings", reason="x")
    )

    assert turned_off.status == 200
    choices = {c["category"]: c["enabled"] for c in (await turned_off.json())["categories"]}
    assert choices == {"rappels": True, "factures": False, "accuses": True}
    assert mandatory.status == 422
    assert invoice.emails == () and len(refusal.emails) == 1
    async with database.sessions() as session:
        journaled = await session.scalar(
            select(func.count()).select_from(JournalEntry).where(JournalEntry.family_id == family)
        )
    assert journaled == 2, "declined e-mails still leave their journal line"


async def test_concurrent_send_tasks_of_one_email_send_it_once(
    database: Database, smtp: SmtpServer
) -> None:
    settings = settings_for(smtp.port)
    family = str(uuid.uuid4())
    await known_parent(database, settings, family)
    (email,) = await emails(database, template="invitation")
    senders = [SmtpSender(settings) for _ in range(4)]
    try:
        outcomes = await asyncio.gather(
            *(send_one(database, settings, s, email.id) for s in senders)
        )
    finally:
        for sender in senders:
            await sender.close()

    assert sorted(o.value for o in outcomes) == ["sent", "skipped", "skipped", "skipped"]
    assert len(smtp.inbox.messages) == 1


async def test_a_4xx_is_retried_with_backoff_then_sent(
    database: Database, smtp: SmtpServer
) -> None:
    settings = settings_for(smtp.port, email_retry_base_seconds=30, email_retry_max_seconds=60)
    await known_parent(database, settings, str(uuid.uuid4()))
    (email,) = await emails(database)
    smtp.inbox.refuse_with = "451 4.3.0 Mailbox busy, try later"

    sender = SmtpSender(settings)
    try:
        first = await send_one(database, settings, sender, email.id)
        (waiting,) = await emails(database)
        too_early = await send_one(database, settings, sender, email.id)
        smtp.inbox.refuse_with = None
        async with database.transaction() as session:  # time passes
            await session.execute(update(OutgoingEmail).values(next_attempt_at=utcnow()))
        last = await send_one(database, settings, sender, email.id)
    finally:
        await sender.close()

    assert first is SendOutcome.RETRY
    assert waiting.state == "pending" and waiting.attempts == 1 and waiting.enqueued_at is None
    assert waiting.last_error is not None and "451" in waiting.last_error
    delay = waiting.next_attempt_at - utcnow()
    assert timedelta(seconds=10) < delay <= timedelta(seconds=30), "jittered: half to all of 30 s"
    assert too_early is SendOutcome.SKIPPED
    assert last is SendOutcome.SENT
    (sent,) = await emails(database)
    assert (sent.state, sent.attempts, smtp.inbox.refused, len(smtp.inbox.messages)) == (
        "sent",
        2,
        1,
        1,
    )


async def test_the_backoff_is_capped() -> None:
    from services.notifications.sending import retry_delay

    settings = settings_for(1, email_retry_base_seconds=5, email_retry_max_seconds=60)
    delays = [retry_delay(settings, n).total_seconds() for n in range(1, 40)]
    assert 2.5 <= delays[0] <= 5
    assert max(delays) <= 60 and min(delays[5:]) >= 30


async def test_too_many_4xx_in_a_row_fail_the_email(database: Database, smtp: SmtpServer) -> None:
    settings = settings_for(smtp.port, email_max_temporary_failures=3)
    await known_parent(database, settings, str(uuid.uuid4()))
    smtp.inbox.refuse_with = "421 4.7.0 Try again later"

    outcomes = []
    for _ in range(4):
        outcomes += await send_pending(database, settings)
        async with database.transaction() as session:
            await session.execute(update(OutgoingEmail).values(next_attempt_at=utcnow()))

    assert outcomes == [SendOutcome.RETRY, SendOutcome.RETRY, SendOutcome.FAILED]
    (email,) = await emails(database)
    assert email.state == "failed" and email.attempts == 3


async def test_a_5xx_fails_at_once_is_shown_to_staff_and_can_be_resent(
    database: Database, smtp: SmtpServer, service_client: Any, signer: Any
) -> None:
    settings = settings_for(smtp.port)
    family = str(uuid.uuid4())
    await known_parent(database, settings, family)
    smtp.inbox.refuse_with = "550 5.1.1 No such user here"

    outcomes = await send_pending(database, settings)
    client = await service_client("notifications", email_relay_enabled=False)
    staff = signer.headers(role="staff")
    listed = await (await client.get("/emails?state=failed", headers=staff)).json()
    parent_view = await client.get(
        "/emails?state=failed", headers=signer.headers(families=[family])
    )
    (failed,) = listed["items"]
    parent_resend = await client.post(
        f"/emails/{failed['id']}/resend", headers=signer.headers(families=[family])
    )
    resend = await client.post(f"/emails/{failed['id']}/resend", headers=staff)
    twice = await client.post(f"/emails/{failed['id']}/resend", headers=staff)
    smtp.inbox.refuse_with = None
    after = await send_pending(database, settings)

    assert outcomes == [SendOutcome.FAILED]
    assert failed["recipient"] == PARENT and "550" in failed["last_error"]
    assert "text_body" not in failed and "SECRET" not in str(listed), "no body (links) in the log"
    assert parent_view.status == parent_resend.status == 403
    assert resend.status == 200 and (await resend.json())["state"] == "pending"
    assert twice.status == 409
    assert after == [SendOutcome.SENT] and len(smtp.inbox.messages) == 1


async def test_an_unreachable_server_keeps_the_email_waiting_until_it_is_back(
    database: Database, smtp: SmtpServer
) -> None:
    settings = settings_for(smtp.port, email_max_temporary_failures=1)
    await known_parent(database, settings, str(uuid.uuid4()))
    smtp.stop()

    down = []
    for _ in range(3):  # more than the 4xx limit: unreachable never gives up
        down += await send_pending(database, settings)
        async with database.transaction() as session:
            await session.execute(update(OutgoingEmail).values(next_attempt_at=utcnow()))
    (waiting,) = await emails(database)
    smtp.start()
    up = await send_pending(database, settings)

    assert down == [SendOutcome.RETRY] * 3
    assert waiting.state == "pending" and "unreachable" in (waiting.last_error or "")
    assert up == [SendOutcome.SENT] and len(smtp.inbox.messages) == 1


async def test_one_connection_serves_many_emails(database: Database, smtp: SmtpServer) -> None:
    settings = settings_for(smtp.port)
    for n in range(5):
        await deliver(database, settings, invited(str(uuid.uuid4()), f"p{n}@example.org"))
    sender = SmtpSender(settings)
    try:
        ids = [e.id for e in await emails(database)]
        await send_one(database, settings, sender, ids[0])
        first = sender._client
        for email_id in ids[1:]:
            await send_one(database, settings, sender, email_id)
        assert sender._client is first, "the connection is reused"
    finally:
        await sender.close()
    assert len(smtp.inbox.messages) == 5


async def test_a_message_reads_back_exactly_as_stored(database: Database, smtp: SmtpServer) -> None:
    settings = settings_for(smtp.port)
    family = str(uuid.uuid4())
    await known_parent(database, settings, family)
    number = "F-2026 « été » 😀 " * 6  # long and non-ASCII: several encoded words
    await deliver(
        database,
        settings,
        of_type("invoice.issued", family, source="billing", number=number, total_cents=100),
    )

    assert await send_pending(database, settings) == [SendOutcome.SENT] * 2  # with the invitation

    (row,) = await emails(database, template="invoice_issued")
    (mail,) = [m for m in smtp.inbox.messages if m["Message-ID"] == row.message_id]
    assert (
        mail["Subject"] == row.subject
        and french_spacing(number.strip(), narrow=False) in row.subject
    )
    assert not mail.defects and all(not part.defects for part in mail.walk())
    text, html = mail.get_body(("plain",)), mail.get_body(("html",))
    assert text is not None and html is not None
    assert (text.get_content(), html.get_content()) == (row.text_body, row.html_body)
    assert (mail["To"], mail["Auto-Submitted"]) == (PARENT, "auto-generated")


async def test_a_line_break_in_an_address_fails_the_email_and_sends_nothing(
    database: Database, smtp: SmtpServer
) -> None:
    settings = settings_for(smtp.port)
    await deliver(
        database, settings, invited(str(uuid.uuid4()), "a@example.org\r\nBcc: b@example.org")
    )

    assert await send_pending(database, settings) == [SendOutcome.FAILED]

    (row,) = await emails(database)
    assert row.state == "failed" and "line break" in (row.last_error or "")
    assert smtp.inbox.messages == []
