"""The week of « Mes réservations » on a phone (390×844, real headless Chromium), the screen
parents use most: a day under another, as the month's list — before, a table of seven columns
scrolled sideways, whose Friday lay off the screen's right edge. Nothing in the form wider
than the screen; the week's last day reached by scrolling the page down only, its box ticked
where the finger lands and saved with the grid's POST, the box sent once. The desktop keeps
the week's table. Independent of today's date: the week of Monday 19 April 2027, the tests'
period."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from services.kit.testing import TestSigner
from tests.browser import PHONE, SCREENSHOTS, chromium, requires_chromium, sign_in_on_page

from .portal import PARENT_EMAIL, PASSWORD, Portal
from .test_browser import DESKTOP
from .test_month_phone_days_browser import TOO_WIDE, tap_at_the_bottom_edge_and_save
from .test_reservation_pages import ready_child

pytestmark = [pytest.mark.browser, requires_chromium]

MONDAY, FRIDAY = "2027-04-19", "2027-04-23"  # the week shown; its last day with openings
SPOKEN = {
    "fr": ("lundi 19 avril 2027", "vendredi 23 avril 2027"),
    "en": ("Monday 19 April 2027", "Friday 23 April 2027"),
}


@pytest.mark.timeout(240)
async def test_the_week_on_a_phone_is_a_day_under_another_and_its_last_day_is_booked(
    portal: Portal, signer: TestSigner
) -> None:
    openings = await ready_child(portal, signer)
    base = portal.base_url
    week = (
        f"{base}/reservations?famille={portal.family_id}&personne={portal.child_id}"
        f"&semaine=2027-04-21"
    )
    async with chromium() as browser:
        context = await browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                            has_touch=True)  # fmt: skip
        page = await context.new_page()
        await sign_in_on_page(page, base, PARENT_EMAIL, PASSWORD)
        await page.goto(week)
        await page.screenshot(path=str(SCREENSHOTS / "reservations-phone-week-days.png"))
        await page.screenshot(
            path=str(SCREENSHOTS / "reservations-phone-week-days-full.png"), full_page=True
        )
        assert await page.evaluate(TOO_WIDE) == []
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert not await page.locator(".planning-scroll").is_visible()
        # A heading per day, its date in words, Monday to Friday; the weekend in one line.
        headings = page.locator(".planning-days h3")
        assert await headings.all_inner_texts() == [
            "lundi 19 avril 2027", "mardi 20 avril 2027", "mercredi 21 avril 2027",
            "jeudi 22 avril 2027", "vendredi 23 avril 2027",
        ]  # fmt: skip
        quiet = await page.locator(".planning-days__quiet").all_inner_texts()
        assert len(quiet) == 1 and quiet[0].startswith(
            "Du samedi 24 avril 2027 au dimanche 25 avril 2027 — "
        ), quiet

        label = f"Journée {SPOKEN['fr'][1]} — réserver"
        box = page.get_by_role("checkbox", name=label)  # the one shown: the grid's is hidden
        fields = await tap_at_the_bottom_edge_and_save(page, box, "reservations-phone-week")
        assert ("vue", "semaine") in fields and ("semaine", MONDAY) in fields, fields
        assert [v for name, v in fields if name == "reserver"] == [openings[(FRIDAY, "journee")]], (
            fields
        )
        await page.wait_for_load_state()
        results = await page.locator(".results").inner_text()
        assert results.count("réservé") == 1 and "ven. 23/04/2027" in results, results
        # Back on the week, Friday's journée is booked: its box now cancels it.
        cancel = page.get_by_role("checkbox", name=f"Journée {SPOKEN['fr'][1]} — annuler")
        assert await cancel.count() == 1
        assert await page.evaluate(TOO_WIDE) == []
        await page.screenshot(
            path=str(SCREENSHOTS / "reservations-phone-week-saved.png"), full_page=True
        )

        await page.goto(f"{week}&lang=en")
        assert await page.evaluate(TOO_WIDE) == []
        assert await headings.first.inner_text() == SPOKEN["en"][0]
        english = page.get_by_role("checkbox", name=f"Journée {SPOKEN['en'][1]} — cancel")
        assert await english.count() == 1
        await page.screenshot(
            path=str(SCREENSHOTS / "reservations-phone-week-days-en.png"), full_page=True
        )
        await context.close()

        # Without the script: the list shown all the same (CSS alone), its box sent once (the
        # table's twin, hidden, is not ticked), the week saved.
        bare = await browser.new_context(viewport=PHONE, is_mobile=True, java_script_enabled=False)
        page = await bare.new_page()
        await sign_in_on_page(page, base, PARENT_EMAIL, PASSWORD)
        await page.goto(week)
        assert await page.evaluate(TOO_WIDE) == []
        thursday = page.get_by_role("checkbox", name="Journée jeudi 22 avril 2027 — réserver")
        await thursday.check()
        async with page.expect_request("**/reservations/enregistrer") as sent:
            await page.get_by_role("button", name="ENREGISTRER").click()
        fields = parse_qsl((await sent.value).post_data or "")
        assert [v for name, v in fields if name == "reserver"] == [
            openings[("2027-04-22", "journee")]
        ], fields
        await page.wait_for_load_state()
        assert "jeu. 22/04/2027" in await page.locator(".results").inner_text()
        await bare.close()

        # The desktop as before: the week's table of seven days, its bar pinned; no list.
        wide = await (await browser.new_context(viewport=DESKTOP)).new_page()
        await sign_in_on_page(wide, base, PARENT_EMAIL, PASSWORD)
        await wide.goto(week)
        assert await wide.locator(".planning-scroll").is_visible()
        assert not await wide.locator(".planning-days").is_visible()
        assert await wide.locator("table.planning thead th").count() == 8  # « Unité », 7 days
        assert await wide.locator("td.cell--confirmed").count() == 2  # Thursday, Friday
        bar = wide.locator(".planning-actions")
        assert await bar.evaluate("bar => getComputedStyle(bar).position") == "sticky"
        await wide.screenshot(path=str(SCREENSHOTS / "reservations-desktop-week-days.png"))
        await wide.goto(f"{week}&lang=en")
        await wide.screenshot(path=str(SCREENSHOTS / "reservations-desktop-week-days-en.png"))
