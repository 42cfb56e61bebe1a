"""« Mes réservations » in a real (headless) Chromium on a phone: the parent scrolls the page
with a finger until a line of the week's last day (its list of days: the phone shows no table)
touches the screen's bottom edge, and every line of that day is what a tap there reaches — the
« ANNULER / ENREGISTRER » bar, pinned to the screen's bottom, was drawn over the grid's last
row. The bar is still reached after the list, and saves."""

from __future__ import annotations

import pytest

from services.kit.testing import TestSigner
from tests.browser import PHONE, SCREENSHOTS, chromium, requires_chromium, sign_in_on_page

from .portal import PARENT_EMAIL, PASSWORD, Portal
from .test_browser import DESKTOP
from .test_reservation_pages import WED_1, ready_child

pytestmark = [pytest.mark.browser, requires_chromium]

# The finger's scroll, down only: the page until the line's bottom is the screen's bottom
# edge (not scrollIntoView, which keeps clear of the bar by the page's scroll-padding). Then
# what lies at the line's centre.
_TAPPABLE_AT_THE_BOTTOM = """line => {
    window.scrollBy(0, line.getBoundingClientRect().bottom - window.innerHeight);
    const box = line.getBoundingClientRect();
    const hit = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
    return {atTheBottom: Math.abs(box.bottom - window.innerHeight) < 1,
            onTheLine: line.contains(hit), scrollX: window.scrollX,
            hit: hit ? hit.outerHTML.slice(0, 80) : null};
}"""


@pytest.mark.timeout(180)
async def test_the_last_rows_cells_can_be_tapped_above_the_save_bar_on_a_phone(
    portal: Portal, signer: TestSigner
) -> None:
    await ready_child(portal, signer)
    base = portal.base_url
    week = (
        f"{base}/reservations?famille={portal.family_id}&personne={portal.child_id}&semaine={WED_1}"
    )
    async with chromium() as browser:
        context = await browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
        page = await context.new_page()
        await sign_in_on_page(page, base, PARENT_EMAIL, PASSWORD)
        await page.goto(week)
        last_day = page.locator(".planning-day").last  # Friday 23 April: the weekend is closed
        assert await last_day.locator("h3").inner_text() == "vendredi 23 avril 2027"
        lines = last_day.locator(".cell")
        assert await lines.count() == 4  # Journée, Matin, Repas, Après-midi
        for i in range(await lines.count()):
            seen = await lines.nth(i).evaluate(_TAPPABLE_AT_THE_BOTTOM)
            if i == 3:  # the week's last box, at the screen's bottom edge
                await page.screenshot(path=str(SCREENSHOTS / "reservations-phone-last-row.png"))
            assert seen["atTheBottom"], f"line {i} was not scrolled to the bottom edge"
            assert seen["onTheLine"], f"line {i} is covered by {seen['hit']}"
            assert seen["scrollX"] == 0, seen
        box = lines.last.locator("input[data-change]")
        await box.click()  # where the parent's finger goes
        assert await box.is_checked()
        save = page.get_by_role("button", name="ENREGISTRER", exact=True)
        await save.scroll_into_view_if_needed()
        await page.screenshot(path=str(SCREENSHOTS / "reservations-phone-save-bar.png"))
        await save.click()
        await page.wait_for_load_state()
        assert "réservé" in await page.locator(".results").inner_text()
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

        await page.set_viewport_size(DESKTOP)
        await page.goto(week)
        await page.screenshot(path=str(SCREENSHOTS / "reservations-desktop-save-bar.png"))
        # The desktop as before: the bar pinned to the screen's bottom while the grid scrolls.
        bar = page.locator(".planning-actions")
        assert await bar.evaluate("bar => getComputedStyle(bar).position") == "sticky"
