"""« Historique de mes actions » says who did each thing, and shows the family's messages.

An audit found the page never said whether an agent or the family opened a document, nor
which of a family's two accounts signed in or reset its password — the journal's events
carry it — and that « Contacter la structure » left no line at all. Through the real
notifications consumer, service (PostgreSQL) and gateway."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from services.kit.database import Database
from services.kit.testing import TestSigner
from services.notifications.seed import recipient_id
from tests.browser import PHONE, SCREENSHOTS, chromium, requires_chromium, sign_in_on_page
from tests.gateway.fakes import PASSWORD

from .factories import invited, of_type
from .mailing import deliver
from .portal import PARENT, make_portal, sign_in
from .smtp_server import SmtpServer
from .test_contact import GUICHET, solve

OTHER_PARENT = "second.parent@example.org"
OTHER_ACCOUNT = "account-of-the-second-parent"
AGENT_ID = "agent-3f9c-do-not-show"
BODY = "Bonjour, le corps du message reste privé."


def rows(page: str) -> list[dict[str, str]]:
    """Each line of a history page: its event type and its cells by their phone label."""
    found = []
    for event_type, row in re.findall(r'<tr data-event="([^"]+)">(.*?)</tr>', page, re.DOTALL):
        cells = re.findall(r"<td([^>]*)>(.*?)</td>", row, re.DOTALL)
        line = {"type": event_type}
        for attributes, text in cells:
            label = re.search(r'data-label="([^"]+)"', attributes)
            line[html.unescape(label[1]) if label else "?"] = " ".join(html.unescape(text).split())
        found.append(line)
    return found


def by_type(page: str, event_type: str) -> list[dict[str, str]]:
    return [r for r in rows(page) if r["type"] == event_type]


async def journal_of_a_family_with_two_parents(
    database: Database, service_client: Any, gateway: Any, upstream: Any,
    signer: TestSigner, smtp: SmtpServer,
) -> Any:  # fmt: skip
    """The portal, a second parent's account in the family, and the events of the audit."""
    portal = await make_portal(database, service_client, gateway, upstream, signer, smtp.port)
    family = portal.family_id
    settings = portal.settings
    await deliver(database, settings, invited(family, OTHER_PARENT, account_id=OTHER_ACCOUNT))
    vaccinations = {"document_type_name": "Photocopie des vaccinations"}
    for by, role in ((AGENT_ID, "staff"), (PARENT, "family")):
        await deliver(
            database,
            settings,
            of_type(
                "document.downloaded", family, source="documents",
                person_name="Enfant TEST", by=by, by_role=role, **vaccinations,
            ),
        )  # fmt: skip
    auth = {"family_ids": [family], "kind": "family"}
    for event_type, account, extra in (
        ("account.password_reset_completed", OTHER_ACCOUNT, {}),
        ("account.activated", PARENT, {}),
        ("account.login_failed", PARENT, {"reason": "password"}),
        ("account.login_failed", OTHER_ACCOUNT, {"reason": "password"}),
        ("account.disabled", OTHER_ACCOUNT, {"actor": AGENT_ID}),
    ):
        data = {"account_id": account, **auth, **extra}
        await deliver(database, settings, of_type(event_type, family, source="auth", **data))
    # families' events name the actor by account id only: its kind comes from auth's events
    # (the agent's sign-in, which has no family and adds no line, teaches it).
    staff_sign_in = of_type("account.login_succeeded", family, source="auth")
    staff_sign_in["family_id"] = None
    staff_sign_in["data"] = {"account_id": AGENT_ID, "family_ids": [], "kind": "staff"}
    await deliver(database, settings, staff_sign_in)
    for by in (PARENT, AGENT_ID, "someone-never-heard-of"):
        updated = of_type("family.updated", family, fields=["phone"], by=by)
        await deliver(database, settings, updated)
    return portal


async def test_each_line_says_who_did_it_without_naming_an_agent(
    database: Database, service_client: Any, gateway: Any, upstream: Any,
    signer: TestSigner, smtp: SmtpServer,
) -> None:  # fmt: skip
    portal = await journal_of_a_family_with_two_parents(
        database, service_client, gateway, upstream, signer, smtp
    )
    await sign_in(portal.client, PARENT)
    page = await (await portal.client.get("/historique")).text()
    english = await (await portal.client.get("/historique?lang=en")).text()

    downloads = by_type(page, "document.downloaded")
    assert sorted(r["Par"] for r in downloads) == ["un agent de la structure", "vous"]
    assert {r["Détail"] for r in downloads} == {"Enfant TEST — Photocopie des vaccinations"}
    assert [r["Par"] for r in by_type(page, "account.password_reset_completed")] == [OTHER_PARENT]
    assert [r["Par"] for r in by_type(page, "account.activated")] == ["vous"]
    # A failed sign-in may be anyone's: the line names the account, not who typed.
    assert sorted(r["Détail"] for r in by_type(page, "account.login_failed")) == [
        f"compte {OTHER_PARENT} — motif : mot de passe incorrect",
        "votre compte — motif : mot de passe incorrect",
    ]
    assert all("Par" not in r for r in by_type(page, "account.login_failed"))
    (disabled,) = by_type(page, "account.disabled")
    assert disabled["Par"] == "un agent de la structure"
    assert disabled["Détail"] == f"compte {OTHER_PARENT}"
    assert sorted(r.get("Par", "") for r in by_type(page, "family.updated")) == [
        "",
        "un agent de la structure",
        "vous",
    ]
    assert AGENT_ID not in page
    assert '<th scope="col">Par</th>' in page

    english_downloads = by_type(english, "document.downloaded")
    assert sorted(r["By"] for r in english_downloads) == [
        "a member of the structure's staff",
        "you",
    ]
    assert sorted(r["Detail"] for r in by_type(english, "account.login_failed")) == [
        f"account {OTHER_PARENT} — reason: wrong password",
        "your account — reason: wrong password",
    ]


async def test_staff_see_the_familys_accounts_and_which_agent_a_family_sees_a_role(
    database: Database, service_client: Any, gateway: Any, upstream: Any,
    signer: TestSigner, smtp: SmtpServer,
) -> None:  # fmt: skip
    portal = await journal_of_a_family_with_two_parents(
        database, service_client, gateway, upstream, signer, smtp
    )
    journal = await (
        await portal.service.get(
            f"/journal/{portal.family_id}",
            headers=signer.headers(subject=OTHER_ACCOUNT, families=[portal.family_id]),
        )
    ).json()
    await sign_in(portal.client, "agent@example.org")
    page = await (await portal.client.get(f"/agents/familles/{portal.family_id}/historique")).text()

    # The API never hands a family an agent's id: staff are a role.
    assert AGENT_ID not in str(journal)
    staff_lines = [e for e in journal["items"] if (e["by"] or {}).get("role") == "staff"]
    agent = {"role": "staff", "account_id": None, "email": None}
    assert [e["by"] for e in staff_lines] == [agent, agent, agent]
    downloads = by_type(page, "document.downloaded")
    # Staff see which agent: by id here, auth never told this agent's address
    # (test_journal_agent.py: by address).
    assert sorted(r["Par"] for r in downloads) == [PARENT, f"l'agent {AGENT_ID}"]


async def write_and_answer(portal: Any, signer: TestSigner) -> None:
    """The parent writes to the Guichet through the service (as the page posts it); an agent
    answers."""
    family = signer.headers(subject=PARENT, families=[portal.family_id])
    challenge = await (await portal.service.get("/contact/challenge", headers=family)).json()
    sent = await portal.service.post(
        f"/families/{portal.family_id}/contact-messages",
        json={
            "recipient_id": recipient_id(GUICHET),
            "subject": "Inscription ALSH",
            "body": BODY,
            "captcha": solve(challenge),
        },
        headers=family,
    )
    assert sent.status == 201, await sent.text()
    thread = await sent.json()
    replied = await portal.service.post(
        f"/contact-messages/{thread['id']}/replies",
        json={"body": "Oui, la réponse reste privée aussi."},
        headers=signer.headers(role="staff", subject=AGENT_ID),
    )
    assert replied.status == 201, await replied.text()


async def test_messages_to_and_from_the_structure_are_lines_without_their_body(
    database: Database, service_client: Any, gateway: Any, upstream: Any,
    signer: TestSigner, smtp: SmtpServer,
) -> None:  # fmt: skip
    portal = await make_portal(database, service_client, gateway, upstream, signer, smtp.port)
    await write_and_answer(portal, signer)

    await sign_in(portal.client, PARENT)
    page = await (await portal.client.get("/historique")).text()
    english = await (await portal.client.get("/historique?lang=en")).text()

    (message,) = by_type(page, "contact.message_sent")
    assert message["Action"] == "Message envoyé à la structure"
    assert message["Détail"] == f"{GUICHET} — objet : Inscription ALSH"
    assert message["Par"] == "vous"
    (reply,) = by_type(page, "contact.replied")
    assert reply["Action"] == "Réponse de la structure"
    assert reply["Détail"] == f"{GUICHET} — objet : Inscription ALSH"
    assert reply["Par"] == "un agent de la structure"
    assert BODY not in page and "reste privée aussi" not in page and AGENT_ID not in page
    assert [r["Action"] for r in by_type(english, "contact.replied")] == [
        "Reply from the structure"
    ]
    assert [r["Detail"] for r in by_type(english, "contact.message_sent")] == [
        f"{GUICHET} — subject: Inscription ALSH"
    ]


@requires_chromium
@pytest.mark.browser
async def test_who_did_it_on_a_phone_and_a_desktop(
    database: Database, service_client: Any, gateway: Any, upstream: Any,
    signer: TestSigner, smtp: SmtpServer,
) -> None:  # fmt: skip
    portal = await journal_of_a_family_with_two_parents(
        database, service_client, gateway, upstream, signer, smtp
    )
    await write_and_answer(portal, signer)
    base = str(portal.client.make_url("")).rstrip("/")
    async with chromium() as browser:
        for name, viewport, query, by_agent in (
            ("phone", PHONE, "", "Par : un agent de la structure"),
            ("desktop", {"width": 1280, "height": 800}, "?lang=en",
             "a member of the structure's staff"),
        ):  # fmt: skip
            page = await browser.new_page(viewport=viewport, is_mobile=name == "phone")
            await sign_in_on_page(page, base, PARENT, PASSWORD)
            await page.goto(f"{base}/historique{query}")
            reply = page.locator('tr[data-event="contact.replied"] td').nth(2)
            # The phone's label comes from CSS (« Par : »): read as the eye sees it.
            shown = await reply.evaluate(
                "td => (getComputedStyle(td, '::before').content.replace(/^\"|\"$/g, '')"
                " + td.innerText).replace(/\\s+/g, ' ').trim()"
            )
            assert " ".join(shown.split()).endswith(by_agent.split(": ")[-1])
            if name == "phone":
                assert " ".join(shown.replace("\xa0", " ").split()) == by_agent
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"], f"{name}: the page scrolls sideways ({width}px)"
            await reply.scroll_into_view_if_needed()
            await page.screenshot(path=str(SCREENSHOTS / f"journal-who-{name}.png"))
            await page.close()
