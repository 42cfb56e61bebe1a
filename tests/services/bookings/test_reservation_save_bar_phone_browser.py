"""« Mes réservations » in a real (headless) Chromium on a phone: the parent scrolls the page
with a finger until the grid's last row touches the screen's bottom edge, and every cell of
that row is what a tap there reaches — the « ANNULER / ENREGISTRER » bar, pinned to the
screen's bottom, was drawn over it. The bar is still reached after the grid, and saves."""

from __future__ import annotations

import pytest

from services.kit.testing import TestSigner
from tests.browser import PHONE, SCREENSHOTS, chromium, requires_chromium, sign_in_on_page

from .portal import PARENT_EMAIL, PASSWORD, Portal
from .test_browser import DESKTOP
from .test_reservation_pages import WED_1, ready_child

pytestmark = [pytest.mark.browser, requires_chromium]

# The finger's scroll: the grid sideways until the cell is right of the sticky unit column,
# then the page until the cell's bottom is the screen's bottom edge (not scrollIntoView, which
# keeps clear of the bar by the page's scroll-padding). Then what lies at the cell's centre.
_TAPPABLE_AT_THE_BOTTOM = """td => {
    const scroller = td.closest(".planning-scroll");
    const unit = scroller.querySelector("th[scope='row']").getBoundingClientRect();
    scroller.scrollLeft += td.getBoundingClientRect().left - unit.right;
    window.scrollBy(0, td.getBoundingClientRect().bottom - window.innerHeight);
    const box = td.getBoundingClientRect();
    const hit = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
    return {atTheBottom: Math.abs(box.bottom - window.innerHeight) < 1,
            onTheCell: td.contains(hit),
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
        last_row = page.locator(".planning tbody tr").last
        cells = last_row.locator("td.cell")
        assert await cells.count() == 7  # the week's days
        for i in range(await cells.count()):
            seen = await cells.nth(i).evaluate(_TAPPABLE_AT_THE_BOTTOM)
            if i == 2:  # Wednesday, a box to tick, at the screen's bottom edge
                await page.screenshot(path=str(SCREENSHOTS / "reservations-phone-last-row.png"))
            assert seen["atTheBottom"], f"cell {i} was not scrolled to the bottom edge"
            assert seen["onTheCell"], f"cell {i} is covered by {seen['hit']}"
        box = last_row.locator("input[data-change]").first
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
