"""In a real (headless) Chromium on a phone: an agent taking attendance scrolls down to the
last child of the list, and every one of its choices can be seen and tapped — the pinned
« Enregistrer les présences » bar covered the last row's « absent non justifié »."""

from __future__ import annotations

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
from tests.services.bookings.portal import PARENT_EMAIL, PASSWORD, STAFF_EMAIL, Portal
from tests.services.bookings.test_browser import DESKTOP
from tests.services.bookings.test_pages import csrf, sign_in, text_of
from tests.services.bookings.test_reservation_pages import WED_1, ready_child

pytestmark = [
    pytest.mark.browser,
    requires_chromium,
]

# The agent's thumb scrolls the page until the control shows at the screen's bottom edge
# (not scrollIntoView, which keeps clear of the bar by the page's scroll-padding); then
# whether the element at the control's centre is the control or its label: what a tap there
# would reach (the pinned bar, drawn over it, answered instead).
_TAPPABLE_AT_THE_BOTTOM = """input => {
    window.scrollBy(0, input.getBoundingClientRect().bottom - window.innerHeight);
    const box = input.getBoundingClientRect();
    const hit = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
    return hit === input || hit === input.closest("label");
}"""


async def _three_rows_on_wed_1(portal: Portal, signer: TestSigner) -> None:
    """Enfant TEST booked (confirmed) on WED_1's morning, meal and afternoon: three rows to
    mark, the last one below a phone's first screen."""
    openings = await ready_child(portal, signer)
    await sign_in(portal.gateway, portal.base_url, PARENT_EMAIL)
    query = {"famille": portal.family_id, "personne": portal.child_id, "semaine": WED_1}
    html = await (await portal.gateway.get("/reservations", params=query)).text()
    form = [
        ("csrf_token", csrf(html)), ("famille", portal.family_id),
        ("personne", portal.child_id), ("semaine", WED_1), ("cle", "attendance-phone"),
    ]  # fmt: skip
    form += [("reserver", openings[(WED_1, unit)]) for unit in ("matin", "repas", "apres_midi")]
    saved = await portal.gateway.post(
        "/reservations/enregistrer", data=form, headers={"Origin": portal.base_url}
    )
    assert text_of(await saved.text()).count(": réservé") == 3


@pytest.mark.timeout(180)
async def test_the_last_childs_every_attendance_choice_can_be_tapped_on_a_phone(
    bookings_portal: Portal,  # noqa: F811
    signer: TestSigner,
) -> None:
    portal = bookings_portal
    await _three_rows_on_wed_1(portal, signer)
    base = portal.base_url
    async with chromium() as browser:
        context = await browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
        page = await context.new_page()
        await sign_in_on_page(page, base, STAFF_EMAIL, PASSWORD)
        await page.goto(
            f"{base}/agents/reservations?activite={portal.activity['id']}&jour={WED_1}&duree=1"
        )
        assert await page.locator(".attendance").count() == 3
        last_row = page.locator(".attendance").last
        for choice in ("present", "absent_justified", "absent_unjustified"):
            control = last_row.locator(f"input[value={choice}]")
            assert await control.evaluate(_TAPPABLE_AT_THE_BOTTOM), f"{choice} is covered"
        await control.check()  # a real tap, where the agent's finger goes
        assert await control.is_checked()
        save = page.get_by_role("button", name="Enregistrer les présences")
        await save.scroll_into_view_if_needed()
        assert await save.is_visible()
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        await last_row.evaluate("e => e.scrollIntoView({block: 'end'})")
        await page.screenshot(path=str(SCREENSHOTS / "agents-attendance-phone.png"))
        await page.screenshot(
            path=str(SCREENSHOTS / "agents-attendance-phone-full.png"), full_page=True
        )
        await page.set_viewport_size(DESKTOP)
        await page.reload()
        await page.screenshot(path=str(SCREENSHOTS / "agents-attendance-desktop.png"))
