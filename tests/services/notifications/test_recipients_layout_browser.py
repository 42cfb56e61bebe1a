"""The staff's « Destinataires des messages » page: one card per recipient, apart from the
next — on a phone the cards touched, and their borders read as one box."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pytest

from services.kit.database import Database
from services.kit.testing import TestSigner
from tests.browser import PHONE, SCREENSHOTS, chromium, requires_chromium
from tests.gateway.fakes import PASSWORD

from .portal import AGENT, make_portal
from .smtp_server import SmtpServer


@requires_chromium
@pytest.mark.browser
async def test_the_recipients_cards_stand_apart_on_a_phone(
    database: Database, service_client: Any, gateway: Any, upstream: Any,
    signer: TestSigner, smtp: SmtpServer,
) -> None:  # fmt: skip
    portal = await make_portal(database, service_client, gateway, upstream, signer, smtp.port)
    base = str(portal.client.make_url("")).rstrip("/")
    async with chromium() as browser:
        page = await browser.new_page(viewport=PHONE, is_mobile=True)
        await page.goto(f"{base}/connexion")
        await page.locator("#email").fill(AGENT)
        await page.locator("#password").fill(PASSWORD)
        await page.locator("form[action='/connexion'] button[type=submit]").click()
        await page.wait_for_load_state()
        await page.goto(f"{base}/agents/destinataires")
        boxes = [await card.bounding_box() for card in await page.locator("form.card").all()]
        assert len(boxes) >= 3, "the seeded recipients and the form to add one"
        gaps = [b["y"] - (a["y"] + a["height"]) for a, b in pairwise(boxes)]
        assert min(gaps) >= 12, f"cards closer than 12 px: {gaps}"
        await page.screenshot(path=str(SCREENSHOTS / "recipients-phone.png"), full_page=True)
        await page.close()
