"""« Demandes d'inscription » (staff) on a phone: each request's selection box has a label that
shows whose request it selects (the child, the activity and the period), where the box sat
alone on top of its card; on a desktop the label stays for a screen reader only. Through the
real gateway and bookings, in a real Chromium, with axe-core's audit."""

from __future__ import annotations

import pytest

from services.kit.testing import TestSigner
from tests.browser import (
    PHONE,
    AccessibilityAudit,
    chromium,
    requires_chromium,
    sign_in_on_page,
)

from .factories import create_period
from .portal import PASSWORD, STAFF_EMAIL, Portal
from .test_browser import DESKTOP
from .test_reservation_pages import ready_child

pytestmark = [pytest.mark.browser, requires_chromium]


async def _a_registration_request(portal: Portal, signer: TestSigner) -> None:
    """Under manual validation, Enfant TEST asked for a « Toussaint 2027 » period."""
    gateway, staff = portal.gateway, signer.headers(role="staff", subject="agent-1")
    activity = portal.activity["id"]
    manual = await gateway.patch(
        f"/api/bookings/activities/{activity}", json={"validation": "manual"}, headers=staff
    )
    assert manual.status == 200, await manual.text()
    assert portal.bookings is not None
    third = await create_period(portal.bookings, signer, activity, name="Toussaint 2027")
    parent = signer.headers(families=[portal.family_id], subject="parent-test")
    requested = await gateway.post(
        f"/api/bookings/families/{portal.family_id}/registrations",
        json={"person_id": portal.child_id, "activity_id": activity, "period_id": third["id"]},
        headers=parent,
    )
    assert requested.status == 201, await requested.text()


@pytest.mark.timeout(180)
async def test_each_request_s_box_has_a_label_naming_whose_request_on_a_phone(
    portal: Portal, signer: TestSigner
) -> None:
    await ready_child(portal, signer)
    await _a_registration_request(portal, signer)
    queue = f"{portal.base_url}/agents/inscriptions?activite={portal.activity['id']}"
    whose = f"Enfant TEST — {portal.activity['name']}, Toussaint 2027"
    audit = AccessibilityAudit("registration-queue")
    async with chromium() as browser:
        for viewport, extra in ((PHONE, {"is_mobile": True}), (DESKTOP, {})):
            context = await browser.new_context(viewport=viewport, **extra)
            page = await context.new_page()
            await sign_in_on_page(page, portal.base_url, STAFF_EMAIL, PASSWORD)
            await page.goto(queue)
            box = page.get_by_label(f"Sélectionner {whose}", exact=True)
            assert await box.count() == 1 and await box.get_attribute("type") == "checkbox"
            label = page.locator(f"label[for='{await box.get_attribute('id')}']")
            shown = await label.bounding_box()
            assert shown is not None
            if viewport is PHONE:  # read beside its box, the whole label on the screen
                assert shown["width"] > 100 and shown["x"] + shown["width"] <= PHONE["width"]
                await label.click()  # the label ticks its box, a bigger target than the box
                assert await box.is_checked()
            else:  # the row already says it: the label is for a screen reader only
                assert shown["width"] <= 1, shown
            await audit.check(page, f"/agents/inscriptions ({viewport['width']}px)")
            await context.close()
    assert not audit.found, audit.report()
