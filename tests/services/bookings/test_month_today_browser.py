"""On a phone, this month and this week are a day under another (no grid scrolled sideways
through thirty or seven columns): today is its own block, its heading marked as today to a
screen reader and in words, and « Aller à aujourd'hui » leads there. The desktop's month grid
is left as it was, the week's table marks today's column; the legend stays one readable
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

        # This week on the phone: no grid to scroll sideways (it opened on today's column),
        # a day under another, today's block marked and led to.
        await page.goto(week)
        assert not await page.locator(".planning-scroll").is_visible()
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert await heading.count() == 1
        assert spoken in await heading.inner_text()
        await page.get_by_role("link", name="Aller à aujourd'hui").click()
        top = await heading.evaluate("h => h.getBoundingClientRect().top")
        assert 0 <= top < PHONE["height"] / 2, top
        await page.screenshot(path=str(SCREENSHOTS / "reservations-phone-week-today.png"))

        await page.set_viewport_size(DESKTOP)
        # The desktop's week: its table, today's column marked for a screen reader.
        await page.goto(week)
        column = page.locator("table.planning thead th[aria-current='date']")
        assert f"{today:%d/%m}" in await column.inner_text()
        assert not await page.locator(".planning-days").is_visible()
        await page.goto(month)
        # The desktop as before: with no box in this month's grid, it opens on the 1st.
        assert await page.evaluate("document.querySelector('.planning-scroll').scrollLeft") == 0
        assert not await page.locator(".planning-days").is_visible()
        await page.screenshot(path=str(SCREENSHOTS / "reservations-desktop-month-today.png"))
