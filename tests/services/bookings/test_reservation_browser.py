"""In a real (headless) Chromium: a parent books two Wednesdays for Enfant TEST, saves, sees
them « réservé », cancels one; the legend is shown; screenshots on a phone and a desktop."""

from __future__ import annotations

import pytest

from services.kit.testing import TestSigner
from tests.browser import PHONE, SCREENSHOTS, chromium, requires_chromium, sign_in_on_page

from .portal import PARENT_EMAIL, PASSWORD, Portal
from .test_browser import DESKTOP
from .test_reservation_pages import ready_child

WED_1, WED_2 = "2027-04-21", "2027-04-28"
# How each box's hidden label says its day to screen readers (and so to get_by_role).
SPOKEN = {
    "2027-04-21": "mercredi 21 avril 2027",
    "2027-04-22": "jeudi 22 avril 2027",
    "2027-04-28": "mercredi 28 avril 2027",
}

pytestmark = [
    pytest.mark.browser,
    requires_chromium,
]


@pytest.mark.timeout(180)
async def test_a_parent_books_two_wednesdays_then_cancels_one_in_a_browser(
    portal: Portal, signer: TestSigner
) -> None:
    await ready_child(portal, signer)
    base = portal.base_url
    month = (
        f"{base}/reservations?famille={portal.family_id}&personne={portal.child_id}"
        f"&semaine={WED_1}&vue=mois"
    )
    violations: list[str] = []
    async with chromium() as browser:
        context = await browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
        page = await context.new_page()
        page.on(
            "console",
            lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
        )
        await sign_in_on_page(page, base, PARENT_EMAIL, PASSWORD)
        await page.goto(f"{base}/reservations")
        await page.get_by_role("link", name="Enfant TEST").click()
        await page.wait_for_load_state()
        await page.goto(month)
        # By role: the box shown (the month's grid, hidden on a phone, has its twin).
        await page.get_by_role("checkbox", name=f"Journée {SPOKEN[WED_1]} — réserver").check()
        await page.get_by_role("checkbox", name=f"Journée {SPOKEN[WED_2]} — réserver").check()
        pending = page.locator("#pending")
        assert "2 changement(s) non enregistré(s)" in await pending.inner_text()
        await page.screenshot(path=str(SCREENSHOTS / "reservations-phone-ticked.png"),
                              full_page=True)  # fmt: skip
        await page.get_by_role("button", name="ENREGISTRER").click()
        await page.wait_for_load_state()
        results = await page.locator(".results").inner_text()
        assert results.count("réservé") == 2, results
        legend = await page.locator(".legend").inner_text()
        assert "disponible" in legend and "absent non justifié" in legend
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]  # the grid scrolls inside its box, not the page
        # The booking and cancelling deadlines are read whole on a phone, not cut by the
        # grid's scrolling box.
        rule = await page.locator(".planning-rule").first.bounding_box()
        assert rule is not None and rule["x"] + rule["width"] <= PHONE["width"], rule
        await page.screenshot(path=str(SCREENSHOTS / "reservations-phone-saved.png"),
                              full_page=True)  # fmt: skip

        await page.get_by_role("checkbox", name=f"Journée {SPOKEN[WED_2]} — annuler").check()
        await page.get_by_role("button", name="ENREGISTRER").click()
        await page.wait_for_load_state()
        assert "annulé" in await page.locator(".results").inner_text()

        # The private calendar link is one long URL: it wraps instead of widening the page.
        await page.get_by_text("Répéter, copier, calendrier").click()
        await page.get_by_role("button", name="Lien de calendrier (iCalendar)").click()
        await page.wait_for_load_state()
        link = await page.locator(".notice--ok").inner_text()
        assert "/api/bookings/calendar/" in link and ".ics" in link, link
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], width
        await page.screenshot(path=str(SCREENSHOTS / "reservations-phone-calendar.png"),
                              full_page=True)  # fmt: skip

        desktop = await browser.new_context(viewport=DESKTOP)
        wide = await desktop.new_page()
        await sign_in_on_page(wide, base, PARENT_EMAIL, PASSWORD)
        await wide.goto(month)
        cell_1 = wide.locator("td.cell--confirmed")
        assert await cell_1.count() == 1
        await wide.screenshot(path=str(SCREENSHOTS / "reservations-desktop.png"),
                              full_page=True)  # fmt: skip
    assert violations == []


@pytest.mark.timeout(180)
async def test_incompatible_units_are_shown_locked_and_two_ticked_the_same_day_are_flagged(
    portal: Portal, signer: TestSigner
) -> None:
    openings = await ready_child(portal, signer)
    booked = await portal.gateway.post(
        f"/api/bookings/families/{portal.family_id}/reservations/changes",
        json={"changes": [{"person_id": portal.child_id, "action": "book",
                           "opening_id": openings[(WED_1, "journee")]}]},
        headers=signer.headers(families=[portal.family_id], subject="parent-test"),
    )  # fmt: skip
    assert booked.status == 200, await booked.text()
    base, thu = portal.base_url, "2027-04-22"
    week = (
        f"{base}/reservations?famille={portal.family_id}&personne={portal.child_id}&semaine={WED_1}"
    )
    violations: list[str] = []
    async with chromium() as browser:
        for name, options in (
            ("phone", {"viewport": PHONE, "device_scale_factor": 2, "is_mobile": True}),
            ("desktop", {"viewport": DESKTOP}),
        ):
            context = await browser.new_context(**options)
            page = await context.new_page()
            page.on(
                "console",
                lambda m: (
                    violations.append(m.text) if "Content Security Policy" in m.text else None
                ),
            )
            await sign_in_on_page(page, base, PARENT_EMAIL, PASSWORD)
            await page.goto(week)
            # What is shown: the week's table on a desktop, its list of days on a phone (each
            # with the other's twin hidden); the boxes by role, the hidden twins left out.
            locked = page.locator("#planning-form .cell--incompatible:visible")
            assert await locked.count() == 2  # Wednesday's matin and après-midi
            # French typography: a narrow no-break space inside « » (services/kit/typography.py).
            assert "Incompatible avec «\u202fJournée\u202f» (réservé) ce jour-là." in (
                await locked.first.inner_text()
            )
            assert await locked.locator("input").count() == 0
            clashes = page.locator("#clashes")
            assert not await clashes.is_visible()
            await page.get_by_role("checkbox", name=f"Journée {SPOKEN[thu]} — réserver").check()
            await page.get_by_role("checkbox", name=f"Matin {SPOKEN[thu]} — réserver").check()
            said = await clashes.inner_text()
            pair = "«\u202fJournée\u202f» et «\u202fMatin\u202f»"
            assert f"{pair} ne peuvent pas être réservés le même jour" in said, said
            assert await page.locator(".cell--clash:visible").count() == 2
            matin = page.get_by_role("checkbox", name=f"Matin {SPOKEN[thu]} — réserver")
            assert await matin.get_attribute("aria-invalid") == "true"
            await page.screenshot(
                path=str(SCREENSHOTS / f"reservations-{name}-incompatible.png"),
                full_page=True,
            )
            if name == "phone":
                width = await page.evaluate("document.documentElement.scrollWidth")
                assert width <= PHONE["width"]
            # Unticking one clears the warning; the other tick stays a plain change.
            await matin.uncheck()
            assert await clashes.inner_text() == ""
            assert await page.locator(".cell--clash").count() == 0
            if name == "phone":
                # English names the months (« Thu 22 Apr »): still no page-wide scroll.
                await page.goto(f"{week}&lang=en")
                box = page.get_by_role("checkbox", name="Journée Thursday 22 April 2027 — book")
                await box.check()
                assert await page.locator("#pending").inner_text() == "1 unsaved change(s)"
                await page.screenshot(
                    path=str(SCREENSHOTS / "reservations-phone-en.png"), full_page=True
                )
                width = await page.evaluate("document.documentElement.scrollWidth")
                assert width <= PHONE["width"]
            await context.close()
    assert violations == []
