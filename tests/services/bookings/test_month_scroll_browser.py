"""The month's grid (a desktop's: on a phone the month is a list of days, see
test_month_phone_days_browser.py) starts on the 1st, its first days often outside the period
and thirty columns wider than the screen. The page brings the first cell with a box into view,
right of the sticky unit column (« Unité » sticky above it), instead of leaving the parent to
scroll sideways through « hors période »."""

from __future__ import annotations

import pytest

from services.kit.testing import TestSigner
from tests.browser import SCREENSHOTS, chromium, requires_chromium, sign_in_on_page

from .portal import PARENT_EMAIL, PASSWORD, Portal
from .test_browser import DESKTOP
from .test_reservation_pages import ready_child

pytestmark = [pytest.mark.browser, requires_chromium]

FIRST_CHOICE_IN_VIEW = """() => {
  const scroller = document.querySelector(".planning-scroll");
  const cell = scroller.querySelector("input[data-change]").closest("td").getBoundingClientRect();
  const frame = scroller.getBoundingClientRect();
  const header = scroller.querySelector("th[scope='row']").getBoundingClientRect();
  const corner = scroller.querySelector("thead th").getBoundingClientRect();
  return {scrolled: scroller.scrollLeft, cellLeft: cell.left, cellRight: cell.right,
          visibleFrom: frame.left + header.width, visibleTo: frame.right,
          cornerLeft: corner.left, frameLeft: frame.left};
}"""


@pytest.mark.timeout(180)
async def test_the_month_grid_opens_on_its_first_bookable_day(
    portal: Portal, signer: TestSigner
) -> None:
    await ready_child(portal, signer)
    base = portal.base_url
    month = (
        f"{base}/reservations?famille={portal.family_id}&personne={portal.child_id}"
        "&semaine=2027-04-21&vue=mois"
    )
    async with chromium() as browser:
        page = await browser.new_page(viewport=DESKTOP)
        await sign_in_on_page(page, base, PARENT_EMAIL, PASSWORD)
        await page.goto(month)
        shown = await page.evaluate(FIRST_CHOICE_IN_VIEW)
        await page.screenshot(path=str(SCREENSHOTS / "reservations-desktop-month.png"))
    assert shown["scrolled"] > 0, shown
    assert shown["visibleFrom"] - 1 <= shown["cellLeft"], shown
    assert shown["cellRight"] <= shown["visibleTo"] + 1, shown
    # « Unité » stays above the unit column: no day's heading slides in over it.
    assert abs(shown["cornerLeft"] - shown["frameLeft"]) <= 1, shown
