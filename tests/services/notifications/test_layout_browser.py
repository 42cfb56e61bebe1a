"""What a parent sees on a phone, in a real (headless) Chromium: text meant for screen readers
stays hidden, and each e-mail choice is a box beside its label."""

from __future__ import annotations

from typing import Any

import pytest

from services.kit.database import Database
from services.kit.testing import TestSigner
from tests.browser import PHONE, SCREENSHOTS, chromium, requires_chromium, sign_in_on_page
from tests.gateway.fakes import PASSWORD

from .factories import event
from .mailing import deliver
from .portal import PARENT, make_portal
from .smtp_server import SmtpServer

pytestmark = [
    pytest.mark.browser,
    requires_chromium,
]


async def test_on_a_phone_hidden_captions_stay_hidden_and_choices_sit_beside_their_labels(
    database: Database, service_client: Any, gateway: Any, upstream: Any, signer: TestSigner,
    smtp: SmtpServer,
) -> None:  # fmt: skip
    portal = await make_portal(database, service_client, gateway, upstream, signer, smtp.port)
    await deliver(database, portal.settings, event(family_id=portal.family_id))  # one action
    base = str(portal.client.make_url("")).rstrip("/")

    async with chromium() as browser:
        page = await browser.new_page(viewport=PHONE, is_mobile=True)
        await sign_in_on_page(page, base, PARENT, PASSWORD)

        await page.goto(f"{base}/historique")
        await page.screenshot(
            path=str(SCREENSHOTS / "notifications-historique-caption.png"), full_page=True
        )
        caption = await page.locator("table.history caption").bounding_box()
        assert caption is not None and caption["height"] <= 1, caption

        await page.goto(f"{base}/courriels")
        await page.screenshot(
            path=str(SCREENSHOTS / "notifications-courriels-phone.png"), full_page=True
        )
        boxes = page.locator(".field--check")
        assert await boxes.count() == 3
        for index in range(3):
            choice = boxes.nth(index)
            box = await choice.locator("input[type=checkbox]").bounding_box()
            label = await choice.locator("label").bounding_box()
            assert box is not None and label is not None
            assert box["width"] <= 24 and box["height"] <= 24, box
            # Beside, not above: the label starts right of the box, on the same line.
            assert label["x"] >= box["x"] + box["width"], (box, label)
            assert label["y"] <= box["y"] + box["height"], (box, label)
