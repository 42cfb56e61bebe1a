"""« Mes réservations » with the keyboard, in Chromium on a desktop: a box reached by Tab must
not hide under the sticky « ANNULER / ENREGISTRER » bar. The browser scrolls a focused box
just into view, at the bottom edge, where the bar covered it and its focus ring."""

from __future__ import annotations

import pytest

from services.kit.testing import TestSigner
from tests.browser import SCREENSHOTS, chromium, requires_chromium, sign_in_on_page

from .portal import PARENT_EMAIL, PASSWORD, Portal
from .test_reservation_browser import WED_1
from .test_reservation_pages import ready_child

# Short enough that the grid goes on below the fold: Tab scrolls the page to each box.
LOW_DESKTOP = {"width": 1280, "height": 560}
# The focused box, and whether something else is drawn over its middle.
FOCUSED_BOX = """() => {
    const box = document.activeElement;
    if (!box || !box.matches("input[data-change]")) { return null; }
    const r = box.getBoundingClientRect();
    const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return {value: box.value, covered: !(top && box.closest("label").contains(top))};
}"""

pytestmark = [
    pytest.mark.browser,
    requires_chromium,
]


@pytest.mark.timeout(180)
async def test_no_box_reached_by_tab_hides_under_the_save_bar(
    portal: Portal, signer: TestSigner
) -> None:
    await ready_child(portal, signer)
    base = portal.base_url
    week = (
        f"{base}/reservations?famille={portal.family_id}&personne={portal.child_id}&semaine={WED_1}"
    )
    async with chromium() as browser:
        page = await browser.new_page(viewport=LOW_DESKTOP)
        await sign_in_on_page(page, base, PARENT_EMAIL, PASSWORD)
        await page.goto(week)
        # The boxes shown: the week's table (the phone's list of days, its twins, is hidden).
        boxes = await page.locator("input[data-change]:visible").count()
        assert boxes >= 2, "the week has boxes to tick"
        await page.get_by_label("Aller à la date").focus()
        seen: dict[str, bool] = {}
        for _ in range(boxes + 10):
            await page.keyboard.press("Tab")
            focused = await page.evaluate(FOCUSED_BOX)
            if focused is not None:
                seen.setdefault(focused["value"], focused["covered"])
                if focused["covered"]:
                    await page.screenshot(path=str(SCREENSHOTS / "reservations-focus-hidden.png"))
        assert len(seen) == boxes, "Tab reached every box"
        assert not any(seen.values()), "a focused box was under the save bar"
