"""The month of « Mes réservations » on a phone (390×844, real headless Chromium): a day under
another, nothing wider than the screen — before, one table of thirty columns scrolled
sideways, opened on today's column or the first box. A day late in the month is reached by
scrolling the page down only, its box ticked where the finger lands (nothing drawn over it at
the screen's bottom edge) and saved with the same POST as from the grid. The desktop keeps the
grid. Independent of today's date: the tests' period is April 2027, the month shown."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import pytest

from gateway.csrf import CSRF_FIELD
from gateway.pages import reservations as page_module
from services.kit.testing import TestSigner
from tests.browser import PHONE, SCREENSHOTS, chromium, requires_chromium, sign_in_on_page

from .portal import PARENT_EMAIL, PASSWORD, Portal
from .test_browser import DESKTOP
from .test_pages import csrf, sign_in, text_of
from .test_reservation_pages import ready_child

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page

LAST_FRIDAY = "2027-04-30"  # the period's last day, the month's last opening
SPOKEN_LAST_FRIDAY = {"fr": "vendredi 30 avril 2027", "en": "Friday 30 April 2027"}

# Every element of the planning form drawn on the phone: none may reach past the screen's
# right edge, and none may scroll sideways inside (the grid's box did, by twenty columns).
# The words only read out (1 px, clipped) are left out.
TOO_WIDE = """() => {
  const width = document.documentElement.clientWidth;
  return [...document.querySelectorAll("#planning-form, #planning-form *")]
    .filter(e => e.getClientRects().length && !e.closest(".visually-hidden"))
    .filter(e => e.getBoundingClientRect().right > width + 0.5
                 || e.scrollWidth > e.clientWidth + 1
                    && getComputedStyle(e).overflowX !== "visible")
    .map(e => e.tagName + "." + e.className + " " + Math.round(e.getBoundingClientRect().right))
    .slice(0, 5);
}"""

# The finger's scroll, down only: the page until the box's line touches the screen's bottom
# edge. Then what lies under the box's centre (a bar pinned there was drawn over it).
DOWN_TO_THE_BOTTOM_EDGE = """box => {
  const line = box.closest(".cell");
  window.scrollBy(0, line.getBoundingClientRect().bottom - window.innerHeight);
  const r = box.getBoundingClientRect();
  const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
  return {x: r.x + r.width / 2, y: r.y + r.height / 2, scrollX: window.scrollX,
          atTheBottom: Math.abs(line.getBoundingClientRect().bottom - window.innerHeight) < 1,
          onTheBox: hit === box, hit: hit ? hit.outerHTML.slice(0, 80) : null};
}"""


async def tap_at_the_bottom_edge_and_save(page: Any, box: Any, shot: str) -> list[tuple[str, str]]:
    """Scroll `box` down to the screen's bottom edge (vertically only, nothing covering it),
    tap it there, save, and return the POST's fields: those of the grid's form, with the box
    once though it is twice in the page (the grid's copy, hidden, is ticked along)."""
    seen = await box.evaluate(DOWN_TO_THE_BOTTOM_EDGE)
    assert seen["scrollX"] == 0 and 0 <= seen["x"] <= PHONE["width"], seen
    assert seen["atTheBottom"] and seen["onTheBox"], seen
    await page.screenshot(path=str(SCREENSHOTS / f"{shot}-last-day.png"))
    await page.touchscreen.tap(seen["x"], seen["y"])
    assert await box.is_checked()
    assert await page.locator("#pending").inner_text() == "1 changement(s) non enregistré(s)"
    async with page.expect_request("**/reservations/enregistrer") as sent:
        await page.get_by_role("button", name="ENREGISTRER").click()
    fields = parse_qsl((await sent.value).post_data or "")
    names = {name for name, _ in fields}
    assert names == {CSRF_FIELD, "famille", "personne", "semaine", "vue", "cle", "reserver"}
    return fields


def _box(page: Page, label: str) -> Locator:
    # By role: only what is shown (the grid's twin of the box, hidden on a phone, is not).
    return page.get_by_role("checkbox", name=label)


@pytest.mark.browser
@requires_chromium
@pytest.mark.timeout(240)
async def test_the_month_on_a_phone_is_a_day_under_another_and_its_last_day_is_booked(
    portal: Portal, signer: TestSigner
) -> None:
    openings = await ready_child(portal, signer)
    base = portal.base_url
    month = (
        f"{base}/reservations?famille={portal.family_id}&personne={portal.child_id}"
        "&semaine=2027-04-21&vue=mois"
    )
    async with chromium() as browser:
        context = await browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                            has_touch=True)  # fmt: skip
        page = await context.new_page()
        await sign_in_on_page(page, base, PARENT_EMAIL, PASSWORD)
        await page.goto(month)
        await page.screenshot(path=str(SCREENSHOTS / "reservations-phone-month-days.png"))
        await page.screenshot(
            path=str(SCREENSHOTS / "reservations-phone-month-days-full.png"), full_page=True
        )
        assert await page.evaluate(TOO_WIDE) == []
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        # A heading per day with something to do, its date in words.
        headings = page.locator(".planning-days h3")
        assert await headings.first.inner_text() == "lundi 19 avril 2027"
        # The days before the period: one line, not eighteen blocks of « hors période ».
        quiet = page.locator(".planning-days__quiet").first
        assert (await quiet.inner_text()).startswith(
            "Du jeudi 1 avril 2027 au dimanche 18 avril 2027 — hors période"
        )

        label = f"Journée {SPOKEN_LAST_FRIDAY['fr']} — réserver"
        box = _box(page, label)
        fields = await tap_at_the_bottom_edge_and_save(page, box, "reservations-phone-month")
        assert [v for name, v in fields if name == "reserver"] == [
            openings[(LAST_FRIDAY, "journee")]
        ], fields
        await page.wait_for_load_state()
        results = await page.locator(".results").inner_text()
        assert "réservé" in results and "ven. 30/04/2027" in results, results
        # Back on the month, the day's journée is booked: its box now cancels it.
        assert await _box(page, f"Journée {SPOKEN_LAST_FRIDAY['fr']} — annuler").count() == 1
        assert await page.evaluate(TOO_WIDE) == []
        await page.screenshot(
            path=str(SCREENSHOTS / "reservations-phone-month-saved.png"), full_page=True
        )

        # Two units that cannot share a day, ticked in the list: flagged once (the grid's
        # twins, hidden, are ticked along), both lines outlined.
        for unit in ("Journée", "Matin"):
            await _box(page, f"{unit} jeudi 29 avril 2027 — réserver").check()
        said = await page.locator("#clashes").inner_text()
        assert said.count("ne peuvent pas être réservés le même jour (jeu. 29/04)") == 1, said
        assert await page.locator(".planning-days .cell--clash").count() == 2
        assert await page.locator("#pending").inner_text() == "2 changement(s) non enregistré(s)"
        await page.screenshot(path=str(SCREENSHOTS / "reservations-phone-month-clash.png"))

        await page.goto(f"{month}&lang=en")
        assert await page.evaluate(TOO_WIDE) == []
        english = _box(page, f"Journée {SPOKEN_LAST_FRIDAY['en']} — cancel")
        assert await english.count() == 1
        await page.screenshot(
            path=str(SCREENSHOTS / "reservations-phone-month-days-en.png"), full_page=True
        )
        await context.close()

        # The desktop as before: the month's grid, its bar pinned; no list of days.
        wide = await (await browser.new_context(viewport=DESKTOP)).new_page()
        await sign_in_on_page(wide, base, PARENT_EMAIL, PASSWORD)
        await wide.goto(month)
        assert await wide.locator(".planning-scroll").is_visible()
        assert not await wide.locator(".planning-days").is_visible()
        assert await wide.locator("td.cell--confirmed").count() == 1
        bar = wide.locator(".planning-actions")
        assert await bar.evaluate("bar => getComputedStyle(bar).position") == "sticky"
        await wide.screenshot(path=str(SCREENSHOTS / "reservations-desktop-month-days.png"))
        await wide.goto(f"{month}&lang=en")
        await wide.screenshot(path=str(SCREENSHOTS / "reservations-desktop-month-days-en.png"))


def _cell(day: str, state: str, *, opening: bool = False, booked: bool = False,
          box: bool = False) -> dict[str, object]:  # fmt: skip
    return {"day": day, "state": state, "label": state, "kind": "booked" if booked else "possible",
            "bookable": box, "cancellable": False, "opening_id": "o" if opening else None,
            "locked_reason": f"why {state}"}  # fmt: skip


def test_days_with_nothing_to_do_are_one_line_per_run_but_today_and_openings_to_come_are_not() -> (
    None
):
    days = ["2026-11-26", "2026-11-27", "2026-11-28", "2026-11-29", "2026-11-30", "2026-12-01"]
    rows = [
        {"cells": [
            _cell(days[0], "hors_delai", opening=True),  # past, nothing booked
            _cell(days[1], "hors_delai", opening=True),
            _cell(days[2], "ferme"),
            _cell(days[3], "ferme"),  # today
            _cell(days[4], "hors_delai", opening=True),  # to come: its deadline is read
            _cell(days[5], "ferme"),
        ]},
    ]  # fmt: skip
    entries = page_module._phone_days(days, rows, today="2026-11-29")
    shown = [(e.get("first"), e.get("last"), e["day"]) for e in entries]
    assert shown == [
        (days[0], days[1], None),
        (days[2], days[2], None),
        (None, None, days[3]),
        (None, None, days[4]),
        (days[5], days[5], None),
    ]
    assert entries[0]["reason"] is None  # past openings' deadlines: none kept for the run
    assert entries[1]["reason"] == "why ferme"


async def test_a_box_sent_twice_by_the_month_without_its_script_is_booked_once(
    portal: Portal, signer: TestSigner
) -> None:
    # Ticked in the phone's list, the phone turned (the grid shown) and ticked again there,
    # with no script to keep the twins alike: the form sends the box twice.
    openings = await ready_child(portal, signer)
    client, base = portal.gateway, portal.base_url
    await sign_in(client, base, PARENT_EMAIL)
    query = {"famille": portal.family_id, "personne": portal.child_id, "semaine": LAST_FRIDAY,
             "vue": "mois"}  # fmt: skip
    html = await (await client.get("/reservations", params=query)).text()
    box = openings[(LAST_FRIDAY, "journee")]
    assert html.count(f'value="{box}"') == 2  # the grid's box and the list's
    data = [(CSRF_FIELD, csrf(html)), *query.items(), ("cle", "month-twice-cle"),
            ("reserver", box), ("reserver", box)]  # fmt: skip
    saved = await client.post("/reservations/enregistrer", data=data, headers={"Origin": base})
    result = text_of(await saved.text())
    assert saved.status == 200, result
    outcome = result.split("Résultat de l'enregistrement")[1].split("Cliquez")[0]
    assert outcome.count("réservé") == 1 and "refusé" not in outcome, outcome
