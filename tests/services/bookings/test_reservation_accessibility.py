"""The planning passes axe-core's WCAG 2.1 A/AA audit in a real Chromium: a week with boxes
to tick, and a week with none (then the scrolled grid itself must take the keyboard's focus,
or a keyboard user cannot scroll it on a phone)."""

from __future__ import annotations

import pytest

from services.kit.testing import TestSigner
from tests.browser import PHONE, AccessibilityAudit, chromium, requires_chromium, sign_in_on_page

from .portal import PARENT_EMAIL, PASSWORD, Portal
from .test_reservation_pages import ready_child

pytestmark = [pytest.mark.browser, requires_chromium]


@pytest.mark.timeout(180)
async def test_the_planning_passes_the_accessibility_audit_with_and_without_boxes_to_tick(
    portal: Portal, signer: TestSigner
) -> None:
    await ready_child(portal, signer)
    base = portal.base_url
    planning = f"{base}/reservations?famille={portal.family_id}&personne={portal.child_id}"
    audit = AccessibilityAudit("planning")
    async with chromium() as browser:
        page = await browser.new_page(viewport=PHONE, is_mobile=True)
        await sign_in_on_page(page, base, PARENT_EMAIL, PASSWORD)
        for name, week in (("bookable", "2027-04-19"), ("outside every period", "2031-01-06")):
            await page.goto(f"{planning}&semaine={week}")
            ticks = await page.locator(".planning input[type=checkbox]").count()
            assert (ticks > 0) == (name == "bookable"), (name, ticks)
            await audit.check(page, name)
    assert not audit.found, audit.report()
