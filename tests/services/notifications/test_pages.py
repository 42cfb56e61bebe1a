"""The pages through the real gateway: Historique de mes actions (filters, pages), Contacter la
structure (captcha solved, missing), staff's inbox and reply, preferences, staff-only pages."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from portail.demo import holidays_registration_window
from services.kit.database import Database
from services.kit.testing import TestSigner
from services.kit.typography import french_spacing
from services.notifications.models import ContactMessage
from services.notifications.seed import paris_today, recipient_id
from tests.gateway.conftest import same_origin

from .factories import of_type
from .mailing import deliver, send_pending
from .portal import AGENT, PARENT, forget_contact_counts, make_portal, sign_in
from .smtp_server import SmtpServer
from .test_contact import solve

GUICHET = "Guichet unique inscriptions"


def challenge_in(page: str) -> dict[str, Any]:
    """The challenge the contact page embeds for its script."""
    found = re.search(r'data-challenge="([^"]+)"', page)
    assert found, page
    return dict(json.loads(html.unescape(found.group(1))))


async def test_historique_lists_sign_ins_and_actions_with_week_and_month_filters_and_pages(
    database: Database, service_client: Any, gateway: Any, upstream: Any, signer: TestSigner,
    smtp: SmtpServer,
) -> None:  # fmt: skip
    portal = await make_portal(database, service_client, gateway, upstream, signer, smtp.port)
    family = portal.family_id
    # Monday 2 March 2026, 08:00 UTC = 09:00 in Paris; then one a day for 25 days.
    start = datetime(2026, 3, 2, 8, tzinfo=UTC)
    for n in range(25):
        message = of_type("account.login_succeeded", family, source="auth", account_id=PARENT)
        message["occurred_at"] = (start + timedelta(days=n)).isoformat()
        await deliver(database, portal.settings, message)
    refusal = of_type("registration.refused", family, source="bookings",
                      person_name="Enfant TEST", activity_name="ALSH Josta Leku", reason="complet")  # fmt: skip  # noqa: E501
    refusal["occurred_at"] = datetime(2026, 4, 2, 16, tzinfo=UTC).isoformat()
    await deliver(database, portal.settings, refusal)
    client = portal.client
    await sign_in(client, PARENT)

    week = await (await client.get("/historique?semaine=2026-W10")).text()
    month = await (await client.get("/historique?mois=2026-03")).text()
    page_two = await (await client.get("/historique?mois=2026-03&page=2")).text()
    april = await (await client.get("/historique?mois=2026-04")).text()

    assert week.count('data-event="account.login_succeeded"') == 7
    assert "lundi 02/03/2026 à 09:00" in week, "day and time, Paris"
    assert "semaine du 02/03/2026 au 08/03/2026" in week
    assert "25 actions" in month and month.count("<tr data-event") == 20
    assert page_two.count("<tr data-event") == 5 and "Page 2 sur 2" in page_two
    assert 'rel="prev"' in page_two and "mois=2026-03" in page_two
    assert (
        "Demande d&#39;inscription refusée" in april and french_spacing("motif : complet") in april
    )
    assert "jeudi 02/04/2026 à 18:00" in april, "summer time in Paris"
    # A sign-in has no detail: on a phone, no « Détail : » label followed by nothing.
    sign_in_row = week.split('data-event="account.login_succeeded"')[1].split("</tr>")[0]
    assert 'data-label="Détail"' not in sign_in_row, sign_in_row


async def test_historique_reads_a_typed_month_and_says_when_a_month_cannot_be_read(
    database: Database, service_client: Any, gateway: Any, upstream: Any, signer: TestSigner,
    smtp: SmtpServer,
) -> None:  # fmt: skip
    # Firefox and Safari on a computer have no month picker: the parent types « 11/2026 ».
    # A month the page could not read showed the whole history as if filtered.
    portal = await make_portal(database, service_client, gateway, upstream, signer, smtp.port)
    client = portal.client
    await sign_in(client, PARENT)

    typed = html.unescape(await (await client.get("/historique?mois=11/2026")).text())
    assert french_spacing("Filtre : novembre 2026") in typed and 'value="2026-11"' in typed
    unreadable = html.unescape(await (await client.get("/historique?mois=novembre")).text())
    assert french_spacing("Ce mois n'est pas valable : choisissez un mois (MM/AAAA).") in unreadable
    assert 'aria-invalid="true"' in unreadable and french_spacing("Filtre :") not in unreadable
    fine = html.unescape(await (await client.get("/historique?mois=2026-11")).text())
    assert french_spacing("Filtre : novembre 2026") in fine and "pas valable" not in fine


async def test_historique_at_the_calendar_s_ends_says_the_date_is_not_valid(
    database: Database, service_client: Any, gateway: Any, upstream: Any, signer: TestSigner,
    smtp: SmtpServer,
) -> None:  # fmt: skip
    # The week after 31/12/9999 or the month after 12/9999 is no date: that was a 500.
    portal = await make_portal(database, service_client, gateway, upstream, signer, smtp.port)
    client = portal.client
    await sign_in(client, PARENT)

    pages = {
        query: await client.get(f"/historique?{query}")
        for query in ("jour=9999-12-31", "jour=01/01/0001", "semaine=9999-W52", "mois=9999-12")
    }

    assert {query: page.status for query, page in pages.items()} == dict.fromkeys(pages, 200)
    for query in ("jour=9999-12-31", "jour=01/01/0001"):
        text = html.unescape(await pages[query].text())
        assert "Cette date n'est pas valable" in text and french_spacing("Filtre :") not in text, (
            query
        )
    month = html.unescape(await pages["mois=9999-12"].text())
    assert "Ce mois n'est pas valable" in month


async def test_a_parent_writes_to_the_guichet_and_staff_answer_from_their_inbox(
    database: Database, service_client: Any, gateway: Any, upstream: Any, signer: TestSigner,
    smtp: SmtpServer,
) -> None:  # fmt: skip
    portal = await make_portal(database, service_client, gateway, upstream, signer, smtp.port)
    client = portal.client
    csrf = await sign_in(client, PARENT)
    form = await (await client.get("/contact")).text()
    assert GUICHET in form and "Jean Verdun, péri extra scolaire" in form
    assert "guichet@example.org" not in form, "addresses stay with staff"

    fields = {"csrf_token": csrf, "famille": portal.family_id, "destinataire": recipient_id(GUICHET),  # noqa: E501
              "objet": "Inscription ALSH", "message": "Reste-t-il des places ?"}  # fmt: skip
    refused = await client.post("/contact", data=fields, headers=same_origin(client))
    sent = await client.post(
        "/contact",
        data={**fields, "captcha": solve(challenge_in(form))},
        headers=same_origin(client),
        allow_redirects=False,
    )
    thread_url = sent.headers.get("Location", "")
    thread = await (await client.get(thread_url)).text()

    refused_page = await refused.text()
    assert refused.status == 422
    assert "La vérification anti-robot n&#39;est pas terminée" in refused_page
    assert "Reste-t-il des places ?" in refused_page, "what was typed is kept (its text area)"
    assert sent.status == 303 and thread_url.startswith("/contact/")
    assert (
        "Votre message a bien été envoyé." in thread
        and french_spacing("Reste-t-il des places ?") in thread
    )
    async with database.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ContactMessage)) == 1

    parent_on_staff_page = await client.get("/agents/messages")
    assert parent_on_staff_page.status == 403

    await client.post("/deconnexion", data={"csrf_token": csrf}, headers=same_origin(client))
    staff_csrf = await sign_in(client, AGENT)
    inbox = await (await client.get("/agents/messages")).text()
    message_id = thread_url.split("/")[2].split("?")[0]
    assert f'href="/agents/messages/{message_id}"' in inbox and "Inscription ALSH" in inbox
    answer = await client.post(
        f"/agents/messages/{message_id}/repondre",
        data={"csrf_token": staff_csrf, "message": "Oui, deux places."},
        headers=same_origin(client),
    )
    assert (
        answer.status == 200 and "Votre réponse a été envoyée à la famille." in await answer.text()
    )
    await send_pending(database, portal.settings)
    subjects = sorted(str(m["Subject"]) for m in smtp.inbox.to(PARENT))
    assert any(s.startswith("Réponse à votre message") for s in subjects), subjects
    assert smtp.inbox.to("guichet@example.org"), "the recipient got the message"
    for page in ("/agents/courriels", "/agents/lettres-mortes", "/agents/actualites",
                 "/agents/destinataires", f"/agents/familles/{portal.family_id}/historique"):  # fmt: skip  # noqa: E501
        response = await client.get(page)
        assert response.status == 200, page
    news = html.unescape(await (await client.get("/agents/actualites")).text())
    start, _ = holidays_registration_window(paris_today())  # the demo news, seeded today
    shown = start - timedelta(days=7)
    assert f"Du {shown:%d/%m/%Y}" in news and shown.isoformat() not in news  # French dates
    # The agent reads the family's journal: « vos connexions » would speak to the agent.
    journal = html.unescape(
        await (await client.get(f"/agents/familles/{portal.family_id}/historique")).text()
    )
    assert "les connexions et les actions de la famille" in journal
    assert "vos connexions" not in journal


async def test_a_forged_recipient_and_an_oversized_message_are_refused_in_french(
    database: Database, service_client: Any, gateway: Any, upstream: Any, signer: TestSigner,
    smtp: SmtpServer,
) -> None:  # fmt: skip
    portal = await make_portal(database, service_client, gateway, upstream, signer, smtp.port)
    client = portal.client
    csrf = await sign_in(client, PARENT)

    async def post(**fields: str) -> str:
        form = await (await client.get("/contact")).text()
        data = {"csrf_token": csrf, "famille": portal.family_id, "destinataire": recipient_id(GUICHET),  # noqa: E501
                "objet": "Objet", "message": "Texte", "captcha": solve(challenge_in(form)), **fields}  # fmt: skip  # noqa: E501
        response = await client.post("/contact", data=data, headers=same_origin(client))
        assert response.status == 422
        return await response.text()

    forged = await post(destinataire="00000000-0000-4000-8000-000000000000")
    oversized = await post(message="x" * 6000)

    assert "Ce destinataire n&#39;existe pas" in forged
    assert "5 000 caractères au plus" in oversized
    async with database.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ContactMessage)) == 0


async def test_a_parent_over_the_hourly_limit_is_told_in_french_when_to_try_again(
    database: Database, service_client: Any, gateway: Any, upstream: Any, signer: TestSigner,
    smtp: SmtpServer,
) -> None:  # fmt: skip
    portal = await make_portal(database, service_client, gateway, upstream, signer, smtp.port)
    client = portal.client
    csrf = await sign_in(client, PARENT)

    async def send(n: int) -> Any:
        form = await (await client.get("/contact")).text()
        data = {"csrf_token": csrf, "famille": portal.family_id, "destinataire": recipient_id(GUICHET),  # noqa: E501
                "objet": f"Message {n}", "message": "Texte", "captcha": solve(challenge_in(form))}  # fmt: skip  # noqa: E501
        return await client.post(
            "/contact", data=data, headers=same_origin(client), allow_redirects=False
        )

    forget_contact_counts()  # what the run's earlier tests sent as this parent
    try:
        statuses = [(await send(n)).status for n in range(5)]  # the service's 5 per account
        refused = await send(5)
    finally:
        forget_contact_counts()  # the next tests of this run write as the same parent

    assert statuses == [303] * 5
    assert refused.status == 429
    assert "Vous avez envoyé trop de messages" in await refused.text()
    assert int(refused.headers["Retry-After"]) > 0


async def test_a_family_turns_off_invoice_emails_on_its_preferences_page(
    database: Database, service_client: Any, gateway: Any, upstream: Any, signer: TestSigner,
    smtp: SmtpServer,
) -> None:  # fmt: skip
    portal = await make_portal(database, service_client, gateway, upstream, signer, smtp.port)
    client = portal.client
    csrf = await sign_in(client, PARENT)

    saved = await client.post(
        "/courriels",
        data={"csrf_token": csrf, "famille": portal.family_id, "rappels": "on", "accuses": "on"},
        headers=same_origin(client),
    )
    page = await saved.text()

    assert "Vos choix sont enregistrés." in page
    assert re.search(r'id="cat-factures" name="factures">', page), "unchecked"
    assert re.search(r'id="cat-rappels" name="rappels" checked>', page)


async def test_staff_see_which_family_wrote_in_the_inbox_and_the_thread(
    database: Database, service_client: Any, gateway: Any, upstream: Any, signer: TestSigner,
    smtp: SmtpServer,
) -> None:  # fmt: skip
    # The notifications service knows a family by its id; the agent read « La famille » and
    # had to open the family's history to learn who wrote.
    families = await service_client("families")
    staff = signer.headers(role="staff", subject="agent-1")
    created = await families.post(
        "/families", json={"name": "ETCHEVERRY", "email": "e@example.org"}, headers=staff
    )
    assert created.status == 201, await created.text()
    family_id = (await created.json())["id"]
    portal = await make_portal(
        database, service_client, gateway, upstream, signer, smtp.port,
        more_services={"families": str(families.make_url("")).rstrip("/")}, family_id=family_id,
    )  # fmt: skip
    client = portal.client
    csrf = await sign_in(client, PARENT)
    form = await (await client.get("/contact")).text()
    fields = {"csrf_token": csrf, "famille": family_id, "destinataire": recipient_id(GUICHET),
              "objet": "Cantine", "message": "Reste-t-il des places ?",
              "captcha": solve(challenge_in(form))}  # fmt: skip
    sent = await client.post(
        "/contact", data=fields, headers=same_origin(client), allow_redirects=False
    )
    assert sent.status == 303, await sent.text()
    message_id = sent.headers["Location"].split("/")[2].split("?")[0]
    await client.post("/deconnexion", data={"csrf_token": csrf}, headers=same_origin(client))
    staff_csrf = await sign_in(client, AGENT)

    inbox = html.unescape(await (await client.get("/agents/messages")).text())
    assert f'<a href="/agents/familles/{family_id}">ETCHEVERRY</a>' in inbox
    page = html.unescape(await (await client.get(f"/agents/messages/{message_id}")).text())
    assert "Famille ETCHEVERRY —" in page and "La famille —" not in page
    english = html.unescape(
        await (await client.get(f"/agents/messages/{message_id}?lang=en")).text()
    )
    assert "ETCHEVERRY family —" in english
    empty = await client.post(
        f"/agents/messages/{message_id}/repondre",
        data={"csrf_token": staff_csrf, "message": ""},
        headers=same_origin(client),
    )
    # The page asking for a text (in English now: the `lang` cookie) still names the family.
    assert empty.status == 422 and "ETCHEVERRY family —" in html.unescape(await empty.text())


def test_every_event_the_journal_keeps_has_a_label_for_the_history_page() -> None:
    # « Historique de mes actions » showed « Action : reservation.requested » — the raw type
    # of the events journaled without a label (requested, cancelled, waiting list, promoted).
    from gateway.pages.notifications import EVENT_LABELS
    from services.notifications.events import JOURNALERS, nothing

    journaled = {kind for kind, journaler in JOURNALERS.items() if journaler is not nothing}
    assert "reservation.confirmed" in journaled  # the set is the journal's, not empty
    assert sorted(journaled - set(EVENT_LABELS)) == []
