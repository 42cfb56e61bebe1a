"""« Mes réservations » → « Répéter, copier, calendrier »: the end date is a line of its own, in
Chromium on a phone and a desktop, through the real gateway, bookings, families and documents.

Found trying the portal as a parent: « jusqu'au [date] » sat on the line of « une semaine sur
deux », so it read as that choice's date only; with « toutes les semaines » left as it was, the
page answered « Choisissez une date de fin ».
"""

from __future__ import annotations

import pytest

from services.kit.testing import TestSigner
from tests.browser import PHONE, SCREENSHOTS, chromium, requires_chromium, sign_in_on_page
from tests.gateway.fakes import PASSWORD
from tests.services.bookings.conftest import (  # noqa: F401 (the bookings tests' fixtures)
    _leave_no_pending_events,
    bookings_app,
    clock,
    stand_in,
)
from tests.services.bookings.conftest import portal as bookings_portal  # noqa: F401
from tests.services.bookings.portal import PARENT_EMAIL, Portal
from tests.services.bookings.test_reservation_pages import WED_1, ready_child

pytestmark = [pytest.mark.browser, requires_chromium]

DESKTOP = {"width": 1280, "height": 900}


async def test_the_repetition_end_date_is_under_both_rhythms(
    bookings_portal: Portal,  # noqa: F811
    signer: TestSigner,
) -> None:
    portal = bookings_portal
    await ready_child(portal, signer)
    query = f"famille={portal.family_id}&personne={portal.child_id}&semaine={WED_1}"
    async with chromium() as browser:
        for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
            page = await browser.new_page(viewport=viewport)
            await sign_in_on_page(page, portal.base_url, PARENT_EMAIL, PASSWORD)
            await page.goto(f"{portal.base_url}/reservations?{query}")
            await page.locator("details summary", has_text="Répéter, copier").click()
            boxes = await page.evaluate(
                """() => {
                     const box = el => el.getBoundingClientRect();
                     const radios = [...document.querySelectorAll('input[name=rythme]')]
                       .map(r => box(r.closest('label')));
                     const until = box(document.querySelector('label[for=jusqu_au]'));
                     return {lastRhythmBottom: Math.max(...radios.map(r => r.bottom)),
                             untilTop: until.top};
                   }"""
            )
            shot = SCREENSHOTS / f"repeat-until-{name}.png"
            await page.screenshot(path=str(shot), full_page=True)
            await page.close()
            assert boxes["untilTop"] >= boxes["lastRhythmBottom"], (name, boxes)
