"""« Courriels envoyés aux familles » (/agents/courriels) opens on the failed e-mails: with none,
the agent must read « Aucun courriel en échec. » and see which filter is shown, not a bare
« Aucun courriel. » that says nothing was sent while the families got their e-mails."""

from __future__ import annotations

from typing import Any

import pytest

from services.kit.database import Database
from services.kit.testing import TestSigner
from tests.browser import SCREENSHOTS, chromium, requires_chromium, sign_in_on_page
from tests.gateway.fakes import PASSWORD

from .factories import of_type
from .mailing import deliver, emails, send_pending
from .portal import AGENT, make_portal
from .smtp_server import SmtpServer

DESKTOP = {"width": 1280, "height": 800}


@pytest.mark.browser
@requires_chromium
async def test_the_agent_sees_which_e_mails_the_empty_list_is_about(
    database: Database, service_client: Any, gateway: Any, upstream: Any, signer: TestSigner,
    smtp: SmtpServer,
) -> None:  # fmt: skip
    portal = await make_portal(database, service_client, gateway, upstream, signer, smtp.port)
    refusal = of_type("registration.refused", portal.family_id, source="bookings",
                      person_name="Enfant TEST", activity_name="ALSH Josta Leku", reason="complet")  # fmt: skip  # noqa: E501
    await deliver(database, portal.settings, refusal)
    await send_pending(database, portal.settings)
    sent = await emails(database, state="sent")
    assert sent, "the family got an e-mail"
    base = str(portal.client.make_url("")).rstrip("/")

    async with chromium() as browser:
        page = await browser.new_page(viewport=DESKTOP, locale="fr-FR")
        await sign_in_on_page(page, base, AGENT, PASSWORD)

        await page.goto(f"{base}/agents/courriels")
        main = page.get_by_role("main")
        await main.get_by_text("Aucun courriel en échec.").wait_for()
        assert "Aucun courriel." not in await main.inner_text()
        shown = main.get_by_role("link", name="en échec")
        assert await shown.get_attribute("aria-current") == "page"
        other = main.get_by_role("link", name="envoyés")
        assert await weight(shown) >= 700 > await weight(other)
        await page.screenshot(path=str(SCREENSHOTS / "staff-emails-failed.png"), full_page=True)

        await other.click()
        await page.wait_for_url(f"{base}/agents/courriels?etat=sent")
        assert await page.locator("tr[data-email]").count() == len(sent)
        assert await weight(other) >= 700

        await page.goto(f"{base}/agents/courriels?etat=pending&lang=en")
        await page.get_by_role("main").get_by_text("No pending e-mails.").wait_for()


async def weight(link: Any) -> int:
    """The link's computed font weight (700: bold)."""
    return int(await link.evaluate("element => getComputedStyle(element).fontWeight"))
