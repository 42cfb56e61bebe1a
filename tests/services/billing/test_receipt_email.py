"""The receipt e-mail says how the invoice was paid: billing's real `payment.received` events
(a PayFiP payment through the simulator, a cheque recorded by finance) go through the
notifications service's own consumer, and the e-mail the test SMTP server receives names the
method as billing does (payment_methods.py), in French or in the parent's English."""

from __future__ import annotations

import uuid
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select

from services.billing import clock
from services.billing.models import OutboxMessage
from services.kit.database import Database
from services.kit.keys import DATABASE
from tests.services.notifications.conftest import database, smtp  # noqa: F401 (fixtures)
from tests.services.notifications.factories import invited, settings_for
from tests.services.notifications.mailing import deliver, send_pending
from tests.services.notifications.smtp_server import SmtpServer

from .conftest import Portal
from .test_payments import choose, issued_invoice, start

PAYER = "payeur@example.org"


async def receipt_events(portal: Portal) -> list[dict[str, Any]]:
    """The `payment.received` messages billing wrote in its outbox, oldest first."""
    async with portal.billing.app[DATABASE].sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.event_type == "payment.received")
            .order_by(OutboxMessage.occurred_at)
        )
        return [row.message for row in rows]


async def receipt_received(
    portal: Portal, notifications: Database, server: SmtpServer, family: str, **parent: Any
) -> str:
    """Billing's receipt event through the notifications consumer to the parent's inbox; the
    e-mail's plain text, on one line."""
    settings = settings_for(server.port)
    await deliver(
        notifications, settings, invited(family, PAYER, account_id=str(uuid.uuid4()), **parent)
    )
    (event,) = await receipt_events(portal)
    await deliver(notifications, settings, event)
    await send_pending(notifications, settings)
    (mail,) = [
        m for m in server.inbox.to(PAYER) if str(m["Message-ID"]).startswith(f"<{event['id']}.")
    ]
    return text_of(mail)


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return " ".join(str(part.get_content()).split())


async def test_a_payfip_payment_receipt_says_it_was_paid_online_with_payfip(
    portal: Portal, database: Database, smtp: SmtpServer,  # noqa: F811
) -> None:  # fmt: skip
    family, invoice = await issued_invoice(portal)
    await choose(portal, await start(portal, family, invoice), "P")

    text = await receipt_received(portal, database, smtp, family)

    assert "Nous avons bien reçu votre paiement de 24,00 €" in text
    assert "Merci. Mode de règlement : Paiement en ligne (PayFiP)" in text


async def test_a_cheque_receipt_in_english_names_the_cheque_in_english(
    portal: Portal, database: Database, smtp: SmtpServer,  # noqa: F811
) -> None:  # fmt: skip
    family, invoice = await issued_invoice(portal)
    finance = portal.signer.headers(role="service", subject="finances", scopes=["billing:write"])
    recorded = await portal.billing.post(
        "/payments",
        json={
            "family_id": family,
            "amount_cents": 1000,
            "method": "cheque",
            "reference": "CHQ 42",
            "received_on": clock.today().isoformat(),
            "allocations": [{"invoice_id": invoice["id"], "amount_cents": 1000}],
        },
        headers=finance,
    )
    assert recorded.status == 201, await recorded.text()

    text = await receipt_received(portal, database, smtp, family, language="en")

    assert "We have received your payment of €10.00" in text
    assert "Thank you. Payment method: Cheque" in text
    assert "Chèque" not in text and "Mode de règlement" not in text
