"""Bookings' and billing's lines say who acted; staff (only staff) see which agent.

Bookings and billing now put `by` and `by_role` in their events' data (the token's subject
and role, tests/services/{bookings,billing}/test_event_actor.py); the events here are shaped
as they write them, through the real notifications consumer, service (PostgreSQL) and
gateway. A family reads « un agent de la structure »; staff read the agent's address (the
address book's, learnt from auth), or the id when it is not known. A family's GET /journal
and the family's export never hold an agent's id or address, whoever asks."""

from __future__ import annotations

from typing import Any

import pytest

from services.kit.database import Database
from services.kit.testing import TestSigner
from tests.browser import PHONE, SCREENSHOTS, chromium, requires_chromium, sign_in_on_page
from tests.gateway.fakes import PASSWORD

from .factories import of_type
from .mailing import deliver
from .portal import PARENT, make_portal, sign_in
from .smtp_server import SmtpServer
from .test_journal_who import by_type

AGENT_ID = "agent-7c2e-known"
AGENT_EMAIL = "marie.guichet@hasparren.example.org"
UNKNOWN_AGENT = "agent-9d41-no-address"
ACTIVITY = {"person_name": "Enfant TEST", "activity_name": "ALSH", "period_name": "Printemps"}
DAY = {"person_name": "Enfant TEST", "activity_name": "ALSH", "date": "2027-04-21",
       "unit_name": "Journée"}  # fmt: skip
# What else billing's payment.received carries (services/billing/payments.received_event).
PAYMENT = {"payment_id": "payment-1", "invoices": ["invoice-1"]}


async def journal_of_bookings_and_billing(
    database: Database, service_client: Any, gateway: Any, upstream: Any,
    signer: TestSigner, smtp: SmtpServer,
) -> Any:  # fmt: skip
    """The portal; an agent auth told the address of; bookings' and billing's events."""
    portal = await make_portal(database, service_client, gateway, upstream, signer, smtp.port)
    family, settings = portal.family_id, portal.settings
    # An agent's sign-in (no family: no line) teaches the address book its address.
    staff_sign_in = of_type("account.login_succeeded", family, source="auth")
    staff_sign_in["family_id"] = None
    staff_sign_in["data"] = {"account_id": AGENT_ID, "family_ids": [], "kind": "staff",
                             "email": AGENT_EMAIL}  # fmt: skip
    await deliver(database, settings, staff_sign_in)
    for event_type, source, data in (
        ("registration.requested", "bookings", {**ACTIVITY, "by": PARENT, "by_role": "family"}),
        ("registration.accepted", "bookings",
         {**ACTIVITY, "automatic": False, "by": AGENT_ID, "by_role": "staff"}),
        ("registration.accepted", "bookings",
         {**ACTIVITY, "automatic": True, "by_role": "service"}),
        # An event written before bookings named its actor: no « Par ».
        ("registration.cancelled", "bookings", ACTIVITY),
        ("reservation.requested", "bookings", {**DAY, "by": PARENT, "by_role": "family"}),
        ("reservation.refused", "bookings",
         {**DAY, "reason": "complet", "by": UNKNOWN_AGENT, "by_role": "staff"}),
        ("invoice.issued", "billing",
         {"number": "F2026-0001", "total_cents": 2400, "by": AGENT_ID, "by_role": "staff"}),
        # PayFiP's notification: no account of ours acted.
        ("payment.received", "billing",
         {**PAYMENT, "receipt_number": "R2026-0001", "amount_cents": 2400, "method": "payfip",
          "method_label": "Paiement en ligne (PayFiP)",
          "method_label_en": "Online payment (PayFiP)"}),
        ("payment.received", "billing",
         {**PAYMENT, "receipt_number": "R2026-0002", "amount_cents": 1000, "method": "cheque",
          "method_label": "Chèque", "method_label_en": "Cheque", "by": "finances",
          "by_role": "service"}),
        # The automatic monthly run's invoice: the structure's software.
        ("invoice.issued", "billing",
         {"number": "F2026-0002", "total_cents": 1550, "by_role": "service"}),
    ):  # fmt: skip
        await deliver(database, settings, of_type(event_type, family, source=source, **data))
    return portal


def by_of(page: str, event_type: str) -> list[str]:
    return sorted(r.get("Par", r.get("By", "")) for r in by_type(page, event_type))


async def test_the_family_reads_who_acted_on_bookings_and_billing_never_which_agent(
    database: Database, service_client: Any, gateway: Any, upstream: Any,
    signer: TestSigner, smtp: SmtpServer,
) -> None:  # fmt: skip
    portal = await journal_of_bookings_and_billing(
        database, service_client, gateway, upstream, signer, smtp
    )
    await sign_in(portal.client, PARENT)
    page = await (await portal.client.get("/historique")).text()

    assert by_of(page, "registration.requested") == ["vous"]
    assert by_of(page, "registration.accepted") == [
        "un agent de la structure",
        "un logiciel de la structure",
    ]
    assert by_of(page, "registration.cancelled") == [""]
    assert by_of(page, "reservation.requested") == ["vous"]
    assert by_of(page, "reservation.refused") == ["un agent de la structure"]
    assert by_of(page, "invoice.issued") == [
        "un agent de la structure",
        "un logiciel de la structure",
    ]
    assert by_of(page, "payment.received") == ["", "un logiciel de la structure"]
    for secret in (AGENT_ID, AGENT_EMAIL, UNKNOWN_AGENT):
        assert secret not in page

    family = signer.headers(subject=PARENT, families=[portal.family_id])
    journal = await (
        await portal.service.get(f"/journal/{portal.family_id}", headers=family)
    ).text()
    staff = signer.headers(role="staff", subject="agent@example.org")
    for headers in (family, staff):  # the family's export is the family's, whoever asks
        export = await portal.service.get(f"/families/{portal.family_id}/export", headers=headers)
        assert export.status == 200, await export.text()
        exported = await export.text()
        assert "invoice.issued" in exported
        for secret in (AGENT_ID, AGENT_EMAIL, UNKNOWN_AGENT):
            assert secret not in journal and secret not in exported


async def test_staff_read_which_agent_acted_by_address_or_id(
    database: Database, service_client: Any, gateway: Any, upstream: Any,
    signer: TestSigner, smtp: SmtpServer,
) -> None:  # fmt: skip
    portal = await journal_of_bookings_and_billing(
        database, service_client, gateway, upstream, signer, smtp
    )
    staff = signer.headers(role="staff", subject="agent@example.org")
    journal = await (await portal.service.get(f"/journal/{portal.family_id}", headers=staff)).json()
    by = {(e["event_type"], (e["by"] or {}).get("account_id")): e["by"] for e in journal["items"]}
    assert by["registration.accepted", AGENT_ID] == {
        "role": "staff", "account_id": AGENT_ID, "email": AGENT_EMAIL,
    }  # fmt: skip
    assert by["reservation.refused", UNKNOWN_AGENT] == {
        "role": "staff", "account_id": UNKNOWN_AGENT, "email": None,
    }  # fmt: skip
    # Software stays a role, to staff too; a family account is named as before.
    assert by["payment.received", None] in (None, {"role": "service", "account_id": None,
                                                   "email": None})  # fmt: skip
    assert by["registration.requested", PARENT]["email"] == PARENT

    await sign_in(portal.client, "agent@example.org")
    url = f"/agents/familles/{portal.family_id}/historique"
    page = await (await portal.client.get(url)).text()
    english = await (await portal.client.get(f"{url}?lang=en")).text()
    assert by_of(page, "registration.accepted") == [
        f"l'agent {AGENT_EMAIL}",
        "un logiciel de la structure",
    ]
    assert by_of(page, "reservation.refused") == [f"l'agent {UNKNOWN_AGENT}"]
    assert by_of(page, "invoice.issued") == [
        f"l'agent {AGENT_EMAIL}",
        "un logiciel de la structure",
    ]
    assert by_of(page, "registration.requested") == [PARENT]
    assert by_of(page, "payment.received") == ["", "un logiciel de la structure"]
    assert by_of(english, "invoice.issued") == [
        f"staff member {AGENT_EMAIL}",
        "the structure's software",
    ]


@requires_chromium
@pytest.mark.browser
async def test_the_staff_history_names_the_agent_on_a_phone_and_a_desktop(
    database: Database, service_client: Any, gateway: Any, upstream: Any,
    signer: TestSigner, smtp: SmtpServer,
) -> None:  # fmt: skip
    portal = await journal_of_bookings_and_billing(
        database, service_client, gateway, upstream, signer, smtp
    )
    base = str(portal.client.make_url("")).rstrip("/")
    async with chromium() as browser:
        for name, viewport, query, by_agent in (
            ("phone", PHONE, "", f"Par : l'agent {AGENT_EMAIL}"),
            ("desktop", {"width": 1280, "height": 800}, "?lang=en",
             f"staff member {AGENT_EMAIL}"),
        ):  # fmt: skip
            page = await browser.new_page(viewport=viewport, is_mobile=name == "phone")
            await sign_in_on_page(page, base, "agent@example.org", PASSWORD)
            await page.goto(f"{base}/agents/familles/{portal.family_id}/historique{query}")
            published = page.locator('tr[data-event="invoice.issued"]', has_text="F2026-0001")
            issued = published.locator("td").nth(2)
            # The phone's label comes from CSS (« Par : »): read as the eye sees it.
            shown = await issued.evaluate(
                "td => (getComputedStyle(td, '::before').content.replace(/^\"|\"$/g, '')"
                " + td.innerText).replace(/\\s+/g, ' ').trim()"
            )
            assert " ".join(shown.replace("\xa0", " ").split()).endswith(by_agent.split(": ")[-1])
            if name == "phone":
                assert " ".join(shown.replace("\xa0", " ").split()) == by_agent
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"], f"{name}: the page scrolls sideways ({width}px)"
            await issued.scroll_into_view_if_needed()
            await page.screenshot(path=str(SCREENSHOTS / f"journal-agent-{name}.png"))
            await page.close()


def details_of(page: str, event_type: str) -> list[str]:
    return sorted(r.get("Détail", r.get("Detail", "")) for r in by_type(page, event_type))


async def test_payment_and_invoice_lines_say_the_amount_and_how_it_was_paid(
    database: Database, service_client: Any, gateway: Any, upstream: Any,
    signer: TestSigner, smtp: SmtpServer,
) -> None:  # fmt: skip
    # The receipt number alone did not say what was paid, nor how: PayFiP or a cheque.
    portal = await journal_of_bookings_and_billing(
        database, service_client, gateway, upstream, signer, smtp
    )
    await sign_in(portal.client, PARENT)
    page = await (await portal.client.get("/historique")).text()
    english = await (await portal.client.get("/historique?lang=en")).text()

    # (rows() reads the no-break space of « 24,00 € » as a space.)
    assert details_of(page, "payment.received") == [
        "R2026-0001 — 24,00 € — paiement en ligne",
        "R2026-0002 — 10,00 € — chèque",
    ]
    assert details_of(page, "invoice.issued") == ["F2026-0001 — 24,00 €", "F2026-0002 — 15,50 €"]
    assert details_of(english, "payment.received") == [
        "R2026-0001 — €24.00 — online payment",
        "R2026-0002 — €10.00 — cheque",
    ]
    assert details_of(english, "invoice.issued") == ["F2026-0001 — €24.00", "F2026-0002 — €15.50"]

    staff = signer.headers(role="staff", subject="agent@example.org")
    journal = await (await portal.service.get(f"/journal/{portal.family_id}", headers=staff)).json()
    kept = [e["summary"] for e in journal["items"] if e["event_type"] == "payment.received"]
    # The method's code is kept, not billing's labels nor the payment's ids.
    assert sorted(kept, key=lambda k: k["receipt_number"]) == [
        {"receipt_number": "R2026-0001", "amount_cents": 2400, "method": "payfip"},
        {"receipt_number": "R2026-0002", "amount_cents": 1000, "method": "cheque"},
    ]


@requires_chromium
@pytest.mark.browser
async def test_the_familys_payment_lines_on_a_phone_and_a_desktop(
    database: Database, service_client: Any, gateway: Any, upstream: Any,
    signer: TestSigner, smtp: SmtpServer,
) -> None:  # fmt: skip
    portal = await journal_of_bookings_and_billing(
        database, service_client, gateway, upstream, signer, smtp
    )
    base = str(portal.client.make_url("")).rstrip("/")
    async with chromium() as browser:
        for name, viewport, query, paid in (
            ("phone", PHONE, "", "Détail : R2026-0002 — 10,00 € — chèque"),
            ("desktop", {"width": 1280, "height": 800}, "?lang=en",
             "R2026-0002 — €10.00 — cheque"),
        ):  # fmt: skip
            page = await browser.new_page(viewport=viewport, is_mobile=name == "phone")
            await sign_in_on_page(page, base, PARENT, PASSWORD)
            await page.goto(f"{base}/historique{query}")
            line = page.locator('tr[data-event="payment.received"]', has_text="R2026-0002")
            detail = line.locator("td").last
            # The phone's label comes from CSS (« Détail : »): read as the eye sees it.
            shown = await detail.evaluate(
                "td => (getComputedStyle(td, '::before').content.replace(/^\"|\"$/g, '')"
                " + td.innerText).replace(/\\s+/g, ' ').trim()"
            )
            shown = " ".join(shown.replace("\xa0", " ").replace("\u202f", " ").split())
            assert shown.endswith(paid.split(" : ")[-1])
            if name == "phone":
                assert shown == paid
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"], f"{name}: the page scrolls sideways ({width}px)"
            await line.scroll_into_view_if_needed()
            await page.screenshot(path=str(SCREENSHOTS / f"journal-payment-{name}.png"))
            await page.close()
