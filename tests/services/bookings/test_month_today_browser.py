"""On a phone, this month is a day under another (no grid scrolled sideways through thirty
columns): today is its own block, its heading marked as today to a screen reader and in words,
and « Aller à aujourd'hui » leads there. The week's grid, still wider than a phone, opens on
today's column. The desktop's month grid is left as it was; the legend stays one readable
column."""

from __future__ import annotations

import pytest

from gateway.paris_time import paris_today
from services.kit.testing import TestSigner
from tests.browser import PHONE, SCREENSHOTS, chromium, requires_chromium, sign_in_on_page

from .portal import PARENT_EMAIL, PASSWORD, Portal
from .test_browser import DESKTOP
from .test_reservation_pages import ready_child

pytestmark = [pytest.mark.browser, requires_chromium]

MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
          "octobre", "novembre", "décembre"]  # fmt: skip

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
async def test_this_month_on_a_phone_leads_to_today(portal: Portal, signer: TestSigner) -> None:
    await ready_child(portal, signer)
    base = portal.base_url
    today = paris_today()
    week = (
        f"{base}/reservations?famille={portal.family_id}&personne={portal.child_id}"
        f"&semaine={today.isoformat()}"
    )
    month = f"{week}&vue=mois"
    async with chromium() as browser:
        page = await browser.new_page(viewport=PHONE, is_mobile=True)
        await sign_in_on_page(page, base, PARENT_EMAIL, PASSWORD)
        await page.goto(month)
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        heading = page.locator(".planning-days h3[aria-current='date']")
        assert await heading.count() == 1
        spoken = f"{today.day} {MONTHS[today.month - 1]} {today.year}"
        assert spoken in await heading.inner_text()
        assert "aujourd'hui" in await heading.inner_text()
        await page.get_by_role("link", name="Aller à aujourd'hui").click()
        top = await heading.evaluate("h => h.getBoundingClientRect().top")
        assert 0 <= top < PHONE["height"] / 2, top  # today at the top of the screen
        await page.screenshot(path=str(SCREENSHOTS / "reservations-phone-month-today.png"))
        await page.screenshot(
            path=str(SCREENSHOTS / "reservations-phone-month-today-full.png"), full_page=True
        )
        await page.goto(f"{month}&lang=en")
        await page.get_by_role("link", name="Go to today").click()
        assert "today" in await heading.inner_text()
        await page.screenshot(path=str(SCREENSHOTS / "reservations-phone-month-today-en.png"))
        await page.goto(f"{month}&lang=fr")  # the language chosen is kept: back to French
        legend = page.locator(".legend__list li").first
        assert (await legend.bounding_box() or {"width": 0})["width"] > PHONE["width"] / 2

        # The week's grid, wider than the phone, opens on today's column.
        await page.goto(week)
        shown = await page.evaluate(TODAY_IN_VIEW, f"{today:%d/%m}")
        assert shown["visibleFrom"] - 1 <= shown["left"], shown
        assert shown["right"] <= shown["visibleTo"] + 1, shown
        assert shown["current"] == "date", shown  # a screen reader says which column is today

        await page.set_viewport_size(DESKTOP)
        await page.goto(month)
        # The desktop as before: with no box in this month's grid, it opens on the 1st.
        assert await page.evaluate("document.querySelector('.planning-scroll').scrollLeft") == 0
        assert not await page.locator(".planning-days").is_visible()
        await page.screenshot(path=str(SCREENSHOTS / "reservations-desktop-month-today.png"))
