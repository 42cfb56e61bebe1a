"""The planning's header says the activity's notice rules, their days counted in the singular
or the plural (it said « 2 jour(s) ouvré(s) »), through the real gateway and bookings, in
French and English; a screenshot on a phone and a desktop."""

from __future__ import annotations

import re

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
from tests.services.bookings.portal import PARENT_EMAIL, PASSWORD, Portal
from tests.services.bookings.test_browser import DESKTOP
from tests.services.bookings.test_pages import sign_in, text_of
from tests.services.bookings.test_reservation_pages import WED_1, ready_child


async def _with_notice_rules(portal: Portal, signer: TestSigner) -> str:
    """Enfant TEST ready, the activity booked up to 2 days before and cancelled up to 1
    working day before, at 10:00: the planning's address."""
    await ready_child(portal, signer)
    ruled = await portal.gateway.patch(
        f"/api/bookings/activities/{portal.activity['id']}",
        json={
            "add_notice": {"kind": "days_before", "days": 2, "at": "10:00"},
            "cancel_notice": {
                "kind": "days_before", "days": 1, "at": "10:00",
                "skip_weekends_and_holidays": True,
            },
        },
        headers=signer.headers(role="staff", subject="agent-1"),
    )  # fmt: skip
    assert ruled.status == 200, await ruled.text()
    return f"/reservations?famille={portal.family_id}&personne={portal.child_id}&semaine={WED_1}"


def _header(html: str) -> str:
    found = re.search(r'<p class="planning-rule">(.*?)</p>', html, re.S)
    assert found, html
    return text_of(found.group(1))


async def test_the_planning_header_counts_the_rules_days_in_french_and_english(
    bookings_portal: Portal,  # noqa: F811
    signer: TestSigner,
) -> None:
    portal = bookings_portal
    planning = await _with_notice_rules(portal, signer)
    await sign_in(portal.gateway, portal.base_url, PARENT_EMAIL)
    name = portal.activity["name"]
    french = _header(await (await portal.gateway.get(planning + "&lang=fr")).text())
    assert french == (
        f"{name} — réservation jusqu'à 2 jours avant, à 10:00 ; "
        "annulation jusqu'à 1 jour ouvré avant, à 10:00"
    ), french
    english = _header(await (await portal.gateway.get(planning + "&lang=en")).text())
    assert english == (
        f"{name} — booking up to 2 days before, at 10:00; "
        "cancelling up to 1 working day before, at 10:00"
    ), english


@pytest.mark.browser
@requires_chromium
@pytest.mark.timeout(180)
async def test_the_planning_header_reads_whole_on_a_phone_and_a_desktop(
    bookings_portal: Portal,  # noqa: F811
    signer: TestSigner,
) -> None:
    portal = bookings_portal
    planning = await _with_notice_rules(portal, signer)
    async with chromium() as browser:
        context = await browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
        page = await context.new_page()
        await sign_in_on_page(page, portal.base_url, PARENT_EMAIL, PASSWORD)
        await page.goto(portal.base_url + planning)
        rule = page.locator(".planning-rule").first
        assert "annulation jusqu'à 1 jour ouvré avant" in await rule.inner_text()
        box = await rule.bounding_box()
        assert box is not None and box["x"] + box["width"] <= PHONE["width"], box
        await page.screenshot(path=str(SCREENSHOTS / "planning-rules-phone.png"))
        await page.set_viewport_size(DESKTOP)
        await page.goto(portal.base_url + planning + "&lang=en")
        assert "cancelling up to 1 working day before" in await rule.inner_text()
        await page.screenshot(path=str(SCREENSHOTS / "planning-rules-desktop-en.png"))
