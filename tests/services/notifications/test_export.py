"""The RGPD export of notifications: the family's journal, threads, e-mails (without their
bodies) and e-mail choices, and nothing of another family."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

from services.kit.keys import DATABASE
from services.kit.outbox import utcnow
from services.kit.testing import TestSigner
from services.notifications.models import ContactMessage, ContactPost, ContactRecipient
from services.notifications.service import handle_event

from .factories import SETTINGS, invited, of_type


async def a_family_with_mail_and_a_thread(client: Any, family_id: str, name: str) -> None:
    """An invited parent, an accepted change (journal line and e-mail), a thread of two posts."""
    accepted = of_type(
        "family.change_accepted", family_id,
        request_id=str(uuid.uuid4()), fields=["city"], labels=["ville"], reason=None,
    )  # fmt: skip
    now = utcnow()
    recipient = ContactRecipient(
        id=str(uuid.uuid4()), name="Guichet", email="guichet@example.org", created_at=now
    )
    message = ContactMessage(
        id=str(uuid.uuid4()), family_id=family_id, account_id=f"account-{name}",
        recipient_id=recipient.id, subject=f"Question de {name}", created_at=now,
        last_activity_at=now,
    )  # fmt: skip
    # The reply a minute after the question: with equal times the order would be the ids'.
    posts = [
        ContactPost(id=str(uuid.uuid4()), message_id=message.id, author_role=role,
                    author_id=author, body=f"{text} {name}",
                    created_at=now + timedelta(minutes=minutes))
        for role, author, text, minutes in (("family", f"account-{name}", "Bonjour de", 0),
                                            ("staff", "agent-1", "Réponse à", 1))
    ]  # fmt: skip
    async with client.app[DATABASE].transaction() as session:
        for raw in (invited(family_id, f"{name}@example.org"), accepted):
            await handle_event(session, raw=raw, settings=SETTINGS)
        session.add(recipient)
        await session.flush()
        session.add(message)
        await session.flush()
        session.add_all(posts)


async def test_the_export_holds_the_familys_journal_mail_and_threads_and_nothing_of_another(
    service_client: Any, signer: TestSigner
) -> None:
    client = await service_client("notifications")
    mine, theirs = str(uuid.uuid4()), str(uuid.uuid4())
    await a_family_with_mail_and_a_thread(client, mine, "parent-a")
    await a_family_with_mail_and_a_thread(client, theirs, "parent-b")
    parent = signer.headers(families=[mine])
    chosen = await client.put(
        f"/families/{mine}/email-preferences",
        json={"categories": {"factures": False}},
        headers=parent,
    )
    assert chosen.status == 200, await chosen.text()

    response = await client.get(f"/families/{mine}/export", headers=parent)

    assert response.status == 200, await response.text()
    assert "attachment" in response.headers["Content-Disposition"]
    export = await response.json()
    assert export["service"] == "notifications" and export["family_id"] == mine
    assert "family.change_accepted" in [e["event_type"] for e in export["journal"]]
    assert export["emails"], "the acceptance e-mail"
    assert {e["recipient"] for e in export["emails"]} == {"parent-a@example.org"}
    [thread] = export["threads"]
    assert thread["subject"] == "Question de parent-a"
    assert [p["body"] for p in thread["posts"]] == ["Bonjour de parent-a", "Réponse à parent-a"]
    assert [(p["category"], p["enabled"]) for p in export["email_preferences"]] == [
        ("factures", False)
    ]
    text = json.dumps(export)
    # Never an e-mail's body: the invitation's carries a one-time link.
    assert "jeton=SECRET" not in text and "text_body" not in text
    for foreign in (theirs, "parent-b"):
        assert foreign not in text


async def test_staff_export_a_family_and_another_familys_id_is_a_404(
    service_client: Any, signer: TestSigner
) -> None:
    client = await service_client("notifications")
    mine, theirs = str(uuid.uuid4()), str(uuid.uuid4())
    await a_family_with_mail_and_a_thread(client, theirs, "parent-b")

    foreign = await client.get(
        f"/families/{theirs}/export", headers=signer.headers(families=[mine])
    )
    assert foreign.status == 404
    assert foreign.content_type == "application/problem+json"
    assert (await client.get(f"/families/{mine}/export")).status == 401
    by_staff = await client.get(f"/families/{theirs}/export", headers=signer.headers(role="staff"))
    assert by_staff.status == 200
    assert [t["subject"] for t in (await by_staff.json())["threads"]] == ["Question de parent-b"]
