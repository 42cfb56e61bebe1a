"""In a real (headless) Chromium: an agent accepts a reservation request from « Réservations et
présences », lands back on the list (post/redirect/get) showing the result, and reloads it
without sending anything again; screenshots on a phone and a desktop."""

from __future__ import annotations

import re

import pytest

from services.kit.testing import TestSigner
from tests.browser import PHONE, SCREENSHOTS, chromium, requires_chromium, sign_in_on_page
from tests.services.bookings.conftest import (  # noqa: F401 (the bookings tests' fixtures)
    _leave_no_pending_events,
    bookings_app,
    clock,
    stand_in,
)
from tests.services.bookings.conftest import portal as bookings_portal  # noqa: F401
from tests.services.bookings.portal import PASSWORD, STAFF_EMAIL, Portal
from tests.services.bookings.test_browser import DESKTOP
from tests.services.bookings.test_reservation_pages import WED_1

from .test_staff_reservation_actions import requested_wed_1

pytestmark = [
    pytest.mark.browser,
    requires_chromium,
]


@pytest.mark.timeout(180)
async def test_an_agent_accepts_a_request_then_reloads_the_list_without_deciding_again(
    bookings_portal: Portal,  # noqa: F811
    signer: TestSigner,
) -> None:
    portal = bookings_portal
    await requested_wed_1(portal, signer, "decisions-browser")
    base = portal.base_url
    accepted = f"Enfant TEST — {portal.activity['name']}, Journée, mer. 21/04/2027 : réservé"
    async with chromium() as browser:
        context = await browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
        page = await context.new_page()
        await sign_in_on_page(page, base, STAFF_EMAIL, PASSWORD)
        await page.goto(f"{base}/agents/reservations?activite={portal.activity['id']}&jour={WED_1}")
        row = page.locator("tr[data-reservation]").filter(has_text=portal.activity["name"])
        await row.get_by_role("checkbox").check()
        await page.get_by_role("button", name="Accepter").click()
        await page.wait_for_url(re.compile(r"/agents/reservations\?.*decisions="))
        result = page.locator(".result").filter(has_text=accepted)
        assert await result.is_visible()

        posts: list[str] = []
        page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
        await page.reload()
        assert posts == [], posts  # the reload asks for the page again, decides nothing
        assert await result.is_visible()
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]
        await page.screenshot(path=str(SCREENSHOTS / "agents-decisions-phone.png"), full_page=True)
        await page.set_viewport_size(DESKTOP)
        await page.reload()
        assert posts == [], posts
        assert await result.is_visible()
        await page.screenshot(path=str(SCREENSHOTS / "agents-decisions-desktop.png"))
