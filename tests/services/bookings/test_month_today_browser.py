"""On a phone, this month's planning opens on today's column: the month starts on the 1st, and
the parent scrolled sideways through the past days (about thirty columns) to reach today. The
desktop's grid is left as it was when it fits; the legend stays one readable column."""

from __future__ import annotations

import pytest

from gateway.paris_time import paris_today
from services.kit.testing import TestSigner
from tests.browser import PHONE, SCREENSHOTS, chromium, requires_chromium, sign_in_on_page

from .portal import PARENT_EMAIL, PASSWORD, Portal
from .test_browser import DESKTOP
from .test_reservation_pages import ready_child

pytestmark = [pytest.mark.browser, requires_chromium]

# Where today's column heading (found by its « 29/11 ») sits against the visible part of the
# grid: right of the sticky unit column, left of the grid's right edge.
TODAY_IN_VIEW = """label => {
  const scroller = document.querySelector(".planning-scroll");
  const heading = [...scroller.querySelectorAll("thead th")].find(
    th => th.textContent.includes(label));
  const today = heading.getBoundingClientRect();
  const frame = scroller.getBoundingClientRect();
  const header = scroller.querySelector("th[scope='row']").getBoundingClientRect();
  return {scrolled: scroller.scrollLeft, left: today.left, right: today.right,
          visibleFrom: frame.left + header.width, visibleTo: frame.right,
          current: heading.getAttribute("aria-current")};
}"""


@pytest.mark.timeout(180)
async def test_this_month_on_a_phone_opens_on_today(portal: Portal, signer: TestSigner) -> None:
    await ready_child(portal, signer)
    base = portal.base_url
    today = paris_today()
    month = (
        f"{base}/reservations?famille={portal.family_id}&personne={portal.child_id}"
        f"&semaine={today.isoformat()}&vue=mois"
    )
    async with chromium() as browser:
        page = await browser.new_page(viewport=PHONE, is_mobile=True)
        await sign_in_on_page(page, base, PARENT_EMAIL, PASSWORD)
        await page.goto(month)
        shown = await page.evaluate(TODAY_IN_VIEW, f"{today:%d/%m}")
        await page.screenshot(path=str(SCREENSHOTS / "reservations-phone-month-today.png"))
        await page.screenshot(
            path=str(SCREENSHOTS / "reservations-phone-month-today-full.png"), full_page=True
        )
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        legend = page.locator(".legend__list li").first
        assert (await legend.bounding_box() or {"width": 0})["width"] > PHONE["width"] / 2
        await page.set_viewport_size(DESKTOP)
        await page.goto(month)
        # The desktop as before: with no box in this month's grid, it opens on the 1st.
        assert await page.evaluate("document.querySelector('.planning-scroll').scrollLeft") == 0
        await page.screenshot(path=str(SCREENSHOTS / "reservations-desktop-month-today.png"))
    assert shown["visibleFrom"] - 1 <= shown["left"], shown
    assert shown["right"] <= shown["visibleTo"] + 1, shown
    assert shown["current"] == "date", shown  # a screen reader says which column is today
