"""Contacter la structure on the real app, PostgreSQL, Redis and SMTP: captcha, limits,
threads, replies by e-mail, and nothing sent when a check fails."""

from __future__ import annotations

import base64
import json
import random
import uuid
from typing import Any

import altcha
import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select

from services.kit.database import Database
from services.kit.testing import TestSigner
from services.kit.typography import french_spacing
from services.notifications.models import ContactMessage, OutgoingEmail
from services.notifications.relay import EmailRelay
from services.notifications.seed import recipient_id, seed_demo

from ... import support
from .factories import invited, settings_for
from .mailing import deliver, emails, send_pending
from .smtp_server import SmtpServer

GUICHET = "Guichet unique inscriptions"


def solve(challenge: dict[str, Any]) -> str:
    """What the browser's script does: find the number, send the payload back (base64 JSON)."""
    solution = altcha.solve_challenge_v1(
        challenge["challenge"], challenge["salt"], challenge["algorithm"], challenge["maxnumber"]
    )
    assert solution is not None
    payload = {
        "algorithm": challenge["algorithm"],
        "challenge": challenge["challenge"],
        "number": solution.number,
        "salt": challenge["salt"],
        "signature": challenge["signature"],
    }
    return base64.b64encode(json.dumps(payload).encode()).decode()


class Family:
    """A family with a known parent, as the gateway calls the service for it."""

    def __init__(self, signer: TestSigner) -> None:
        self.id = str(uuid.uuid4())
        self.account = str(uuid.uuid4())
        self.email = f"parent-{self.id[:8]}@example.org"
        # Each test family comes from its own address: the per-IP limit counts per address.
        self.ip = f"198.51.100.{random.randint(1, 254)}"
        self.headers = {
            **signer.headers(subject=self.account, families=[self.id]),
            "X-Forwarded-For": self.ip,
        }


@pytest.fixture
async def portal(
    database: Database, smtp: SmtpServer, service_client: Any, signer: TestSigner
) -> Any:
    """The service with the demo recipients, a family whose parent is known, SMTP settings."""
    await seed_demo(database)
    # The limits count per hour in Redis, which outlives a test run: an address drawn at
    # random could find counts of an earlier run of the same hour. Each test starts at 0.
    counters = Redis.from_url(support.redis_url())
    async for key in counters.scan_iter("notifications:contact:*"):
        await counters.delete(key)
    await counters.aclose()
    settings = settings_for(smtp.port)
    client = await service_client(
        "notifications",
        email_relay_enabled=False,
        captcha_max_number=2000,
        contact_per_account_per_hour=3,
        contact_per_ip_per_hour=5,
        contact_body_max=500,
    )
    family = Family(signer)
    await deliver(database, settings, invited(family.id, family.email, account_id=family.account))
    await send_pending(database, settings)  # the invitation
    smtp.inbox.clear()
    return client, family, settings


async def send(client: Any, family: Family, **overrides: Any) -> Any:
    """Fill the form as the page does: a fresh challenge, solved; `overrides` replace fields."""
    challenge = await (await client.get("/contact/challenge", headers=family.headers)).json()
    body = {
        "recipient_id": recipient_id(GUICHET),
        "subject": "Inscription ALSH",
        "body": "Bonjour, peut-on encore inscrire Enfant TEST ?",
        "captcha": solve(challenge),
        **overrides,
    }
    return await client.post(
        f"/families/{family.id}/contact-messages", json=body, headers=family.headers
    )


async def counts(database: Database) -> tuple[int, int]:
    """(threads, e-mail rows other than the parent's invitation)."""
    async with database.sessions() as session:
        threads = await session.scalar(select(func.count()).select_from(ContactMessage))
        mails = await session.scalar(
            select(func.count())
            .select_from(OutgoingEmail)
            .where(OutgoingEmail.template != "invitation")
        )
    return int(threads or 0), int(mails or 0)


async def test_a_message_with_a_solved_captcha_reaches_the_recipient_and_is_acknowledged(
    portal: Any, database: Database, smtp: SmtpServer
) -> None:
    client, family, settings = portal

    response = await send(client, family)
    await send_pending(database, settings)

    assert response.status == 201, await response.text()
    thread = await response.json()
    assert thread["recipient_name"] == GUICHET and thread["state"] == "open"
    assert [p["body"] for p in thread["posts"]] == [
        "Bonjour, peut-on encore inscrire Enfant TEST ?"
    ]
    (to_staff,) = smtp.inbox.to("guichet@example.org")
    assert french_spacing("Nouveau message : Inscription ALSH", narrow=False) in str(
        to_staff["Subject"]
    )
    assert f"/agents/messages/{thread['id']}" in str(to_staff.get_body(("plain",)).get_content())
    (receipt,) = smtp.inbox.to(family.email)
    assert "Votre message a bien été reçu" in str(receipt["Subject"])
    assert GUICHET in str(receipt.get_body(("plain",)).get_content())


async def test_staff_read_it_in_the_inbox_and_their_reply_reaches_the_family(
    portal: Any, database: Database, smtp: SmtpServer, signer: TestSigner
) -> None:
    client, family, settings = portal
    thread = await (await send(client, family)).json()
    staff = signer.headers(role="staff", subject="agent-1")

    inbox = await (await client.get("/contact-messages?state=open", headers=staff)).json()
    reply = await client.post(
        f"/contact-messages/{thread['id']}/replies",
        json={"body": "Oui, jusqu'au jeudi 6 avril."},
        headers=staff,
    )
    await send_pending(database, settings)
    seen = await (
        await client.get(f"/contact-messages/{thread['id']}", headers=family.headers)
    ).json()
    answered = await (await client.get("/contact-messages?state=answered", headers=staff)).json()

    assert [m["id"] for m in inbox["items"]] == [thread["id"]]
    assert reply.status == 201
    assert [(p["author_role"], p["body"]) for p in seen["posts"]] == [
        ("family", "Bonjour, peut-on encore inscrire Enfant TEST ?"),
        ("staff", "Oui, jusqu'au jeudi 6 avril."),
    ]
    assert seen["state"] == "answered" and [m["id"] for m in answered["items"]] == [thread["id"]]
    replies = [
        m for m in smtp.inbox.to(family.email) if "Réponse à votre message" in str(m["Subject"])
    ]
    assert len(replies) == 1
    assert "Oui, jusqu'au jeudi 6 avril." in str(replies[0].get_body(("plain",)).get_content())


async def test_a_replayed_captcha_is_refused_and_sends_nothing(
    portal: Any, database: Database
) -> None:
    client, family, _ = portal
    challenge = await (await client.get("/contact/challenge", headers=family.headers)).json()
    payload = solve(challenge)

    first = await send(client, family, captcha=payload)
    before = await counts(database)
    replay = await send(client, family, captcha=payload, subject="Encore")

    assert first.status == 201
    assert replay.status == 422
    assert (await replay.json())["reason"] == "replayed"
    assert await counts(database) == before


@pytest.mark.parametrize(
    ("fields", "status", "slug"),
    [
        ({"captcha": None}, 422, "captcha-refused"),
        ({"captcha": "bm90IGEgcGF5bG9hZA=="}, 422, "captcha-refused"),
        ({"recipient_id": str(uuid.uuid4())}, 422, "unknown-recipient"),
        ({"body": "x" * 501}, 422, "validation-failed"),
        ({"body": "   "}, 422, "validation-failed"),
    ],
)
async def test_a_form_that_fails_a_check_gets_a_clear_answer_and_sends_nothing(
    portal: Any, database: Database, fields: dict[str, Any], status: int, slug: str
) -> None:
    client, family, _ = portal

    response = await send(client, family, **fields)

    assert response.status == status
    assert (await response.json())["type"].endswith(slug)
    assert await counts(database) == (0, 0)


async def test_a_forged_signature_is_refused(portal: Any, database: Database) -> None:
    client, family, _ = portal
    challenge = await (await client.get("/contact/challenge", headers=family.headers)).json()
    forged = json.loads(base64.b64decode(solve(challenge)))
    forged["signature"] = "0" * 64

    response = await send(
        client, family, captcha=base64.b64encode(json.dumps(forged).encode()).decode()
    )

    assert response.status == 422
    assert await counts(database) == (0, 0)


async def test_an_account_is_limited_per_hour(portal: Any) -> None:
    client, family, _ = portal

    statuses = [(await send(client, family, subject=f"n{n}")).status for n in range(4)]
    refused = await send(client, family)

    assert statuses == [201, 201, 201, 429]
    assert int(refused.headers["Retry-After"]) > 0


async def test_an_address_is_limited_per_hour_across_accounts(
    portal: Any, signer: TestSigner
) -> None:
    client, family, _ = portal
    statuses = []
    for _ in range(6):
        other = Family(signer)
        other.headers["X-Forwarded-For"] = family.ip
        statuses.append((await send(client, other)).status)

    assert statuses == [201] * 5 + [429]


async def test_no_family_reads_or_writes_another_familys_threads(
    portal: Any, signer: TestSigner
) -> None:
    client, family, _ = portal
    thread = await (await send(client, family)).json()
    other = Family(signer)
    missing = str(uuid.uuid4())

    calls = [
        ("GET", f"/contact-messages/{thread['id']}", None),
        ("GET", f"/contact-messages/{missing}", None),
        ("POST", f"/contact-messages/{thread['id']}/replies", {"body": "intrus"}),
        ("GET", f"/families/{family.id}/contact-messages", None),
        ("POST", f"/families/{family.id}/contact-messages", {"recipient_id": "x", "subject": "s", "body": "b"}),  # noqa: E501
        ("GET", f"/families/{family.id}/email-preferences", None),
        ("PUT", f"/families/{family.id}/email-preferences", {"categories": {}}),
        ("GET", f"/journal/{family.id}", None),
        ("GET", f"/dashboard/{family.id}", None),
    ]  # fmt: skip
    for method, path, body in calls:
        response = await client.request(method, path, json=body, headers=other.headers)
        assert response.status == 404, (method, path, response.status)
        anonymous = await client.request(method, path, json=body)
        assert anonymous.status == 401, (method, path)


async def test_parents_are_refused_every_staff_route(portal: Any) -> None:
    client, family, _ = portal
    calls = [
        ("GET", "/contact-messages", None),
        ("POST", "/contact-recipients", {"name": "X", "email": "x@example.org"}),
        ("PUT", f"/contact-recipients/{recipient_id(GUICHET)}", {"name": "X", "email": "x@example.org"}),  # noqa: E501
        ("GET", "/news", None),
        ("POST", "/news", {"title": "t", "text": "t", "visible_from": "2026-01-01T00:00:00+01:00"}),
        ("PUT", f"/news/{uuid.uuid4()}", {"title": "t", "text": "t", "visible_from": "2026-01-01T00:00:00+01:00"}),  # noqa: E501
        ("DELETE", f"/news/{uuid.uuid4()}", None),
        ("GET", "/emails", None),
        ("POST", f"/emails/{uuid.uuid4()}/resend", None),
        ("GET", "/dead-letters", None),
        ("GET", "/staff/waiting", None),
    ]  # fmt: skip
    for method, path, body in calls:
        response = await client.request(method, path, json=body, headers=family.headers)
        assert response.status == 403, (method, path, response.status)


async def test_families_see_names_and_staff_configure_recipients(
    portal: Any, signer: TestSigner
) -> None:
    client, family, _ = portal
    staff = signer.headers(role="staff")

    names = await (await client.get("/contact-recipients", headers=family.headers)).json()
    created = await client.post(
        "/contact-recipients",
        json={"name": "Restauration scolaire", "email": "cantine@example.org", "position": 5},
        headers=staff,
    )
    new_id = (await created.json())["id"]
    await client.put(
        f"/contact-recipients/{new_id}",
        json={"name": "Restauration scolaire", "email": "cantine@example.org", "active": False},
        headers=staff,
    )
    after = await (await client.get("/contact-recipients", headers=family.headers)).json()
    everything = await (await client.get("/contact-recipients?all=true", headers=staff)).json()
    unknown = await client.put(
        f"/contact-recipients/{uuid.uuid4()}",
        json={"name": "X", "email": "x@example.org"},
        headers=staff,
    )

    assert [r["name"] for r in names["items"]] == [GUICHET, "Jean Verdun, péri extra scolaire"]
    assert set(names["items"][0]) == {"id", "name"}, "families never see the addresses"
    assert created.status == 201
    assert [r["name"] for r in after["items"]] == [r["name"] for r in names["items"]]
    assert {r["email"] for r in everything["items"]} >= {
        "cantine@example.org",
        "guichet@example.org",
    }
    assert unknown.status == 404
    sent_to_inactive = await send(client, family, recipient_id=new_id)
    assert sent_to_inactive.status == 422


async def test_the_relay_enqueues_a_messages_emails_at_its_next_pass(
    portal: Any, database: Database
) -> None:
    client, family, _ = portal
    response = await send(client, family)
    enqueued: list[str] = []
    relay = EmailRelay(database, enqueued.append, interval=1, requeue_after=30)

    assert response.status == 201
    # Not 30 s later: the request that wrote them never talks to the broker.
    assert await relay.relay_once() == 2
    assert sorted(e.template for e in await emails(database) if e.id in enqueued) == [
        "contact_acknowledged",
        "contact_new_message",
    ]
