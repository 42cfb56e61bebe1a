"""In a real (headless) Chromium: a parent writes to "Guichet unique inscriptions" from a phone
(the page's script solves the anti-robot check), staff read it in their inbox and answer."""

from __future__ import annotations

from typing import Any

import pytest

from services.kit.database import Database
from services.kit.testing import TestSigner
from tests.browser import PHONE, SCREENSHOTS, chromium, requires_chromium, sign_in_on_page
from tests.gateway.fakes import PASSWORD

from .mailing import send_pending
from .portal import AGENT, PARENT, make_portal
from .smtp_server import SmtpServer

pytestmark = [
    pytest.mark.browser,
    requires_chromium,
]


async def test_a_parent_writes_to_the_guichet_and_staff_read_and_answer_it(
    database: Database, service_client: Any, gateway: Any, upstream: Any, signer: TestSigner,
    smtp: SmtpServer,
) -> None:  # fmt: skip
    portal = await make_portal(database, service_client, gateway, upstream, signer, smtp.port)
    base = str(portal.client.make_url("")).rstrip("/")
    violations: list[str] = []

    async with chromium() as browser:
        parent = await browser.new_page(viewport=PHONE, is_mobile=True)
        parent.on(
            "console",
            lambda m: violations.append(m.text) if "Content Security" in m.text else None,
        )
        await sign_in_on_page(parent, base, PARENT, PASSWORD)
        await parent.goto(f"{base}/contact")
        assert await parent.title() == "Contacter la structure — Mairie de Hasparren"
        await parent.get_by_label("Choisir le destinataire").select_option(
            label="Guichet unique inscriptions"
        )
        await parent.get_by_label("Objet du message").fill("Inscription ALSH")
        await parent.get_by_label("Contenu du message").fill(
            "Bonjour, reste-t-il des places pour Enfant TEST aux vacances de printemps ?"
        )
        await parent.screenshot(path=str(SCREENSHOTS / "notifications-contact-phone.png"))
        await parent.get_by_role("button", name="ENVOYER LE MESSAGE").click()
        await parent.get_by_text("Votre message a bien été envoyé.").wait_for()
        thread_url = parent.url
        assert "/contact/" in thread_url
        await parent.screenshot(path=str(SCREENSHOTS / "notifications-sent-phone.png"))
        width = await parent.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]

        staff = await browser.new_page()
        await sign_in_on_page(staff, base, AGENT, PASSWORD)
        await staff.goto(f"{base}/agents/messages")
        await staff.get_by_role("link", name="Inscription ALSH").click()
        body = staff.locator("[data-post=family]")
        assert "reste-t-il des places" in await body.inner_text()
        assert "Guichet unique inscriptions" in await staff.locator("main").inner_text()
        await staff.get_by_label("Répondre").fill("Oui, il reste des places jusqu'au 6 avril.")
        await staff.get_by_role("button", name="Envoyer la réponse").click()
        await staff.get_by_text("Votre réponse a été envoyée à la famille.").wait_for()
        await staff.screenshot(path=str(SCREENSHOTS / "notifications-staff-thread.png"))

        await parent.goto(thread_url.split("?")[0])
        reply = parent.locator("[data-post=staff]")
        assert "jusqu'au 6 avril" in await reply.inner_text()
        await parent.screenshot(path=str(SCREENSHOTS / "notifications-reply-phone.png"))
        await parent.goto(f"{base}/historique")
        await parent.screenshot(path=str(SCREENSHOTS / "notifications-historique-phone.png"))
    assert violations == []
    await send_pending(database, portal.settings)
    assert smtp.inbox.to("guichet@example.org"), "the guichet received the message by e-mail"
    assert any("Réponse à votre message" in str(m["Subject"]) for m in smtp.inbox.to(PARENT))
