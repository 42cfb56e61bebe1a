"""In a real (headless) Chromium, phone and desktop: an administrator's « Comptes » list with
its staff buttons, the staff invitation form and the role confirmation, audited for WCAG 2.1
AA and kept as screenshots (/tmp/staff-members-*.png)."""

from __future__ import annotations

import pytest

from tests.browser import PHONE, AccessibilityAudit, chromium, requires_chromium

from .conftest import GOOD_PASSWORD, staff_headers, unique_email
from .test_pages import portal
from .test_staff_members_page import enrolled_staff

pytestmark = [pytest.mark.browser, requires_chromium]
DESKTOP = {"width": 1280, "height": 900}


async def test_the_staff_pages_on_a_phone_and_a_desktop(gateway, auth_client, signer) -> None:
    client, auth = await portal(gateway, auth_client)
    admin = await enrolled_staff(client, auth, signer, "administrator")
    colleague = unique_email("collegue")
    await auth.post(
        "/staff",
        json={"email": colleague, "roles": ["agent"]},
        headers=staff_headers(signer, "administrator"),
    )
    base = str(client.make_url("")).rstrip("/")
    audit = AccessibilityAudit("staff-members")

    async with chromium() as browser:
        # One sign-in for both windows: a TOTP code is accepted once, so a second sign-in
        # within the same 30 s would be refused as a replay.
        signed_in = None
        for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
            page = await browser.new_page(
                viewport=viewport, is_mobile=name == "phone", storage_state=signed_in
            )
            if signed_in is None:
                await page.goto(f"{base}/connexion")
                await page.locator("#email").fill(admin["email"])
                await page.locator("#password").fill(GOOD_PASSWORD)
                await page.locator("#totp_code").fill(admin["totp"].now())
                await page.locator("form[action='/connexion'] button[type=submit]").click()
                await page.wait_for_url(lambda url: "/connexion" not in url)
                signed_in = await page.context.storage_state()

            await page.goto(f"{base}/agents/comptes?q=collegue")
            await page.screenshot(path=f"/tmp/staff-members-list-{name}.png", full_page=True)
            await audit.check(page, f"list ({name})")
            await page.get_by_role("link", name=f"Passer administrateur {colleague}").click()
            await page.get_by_role("heading", name="Changer le rôle").wait_for()
            await page.screenshot(path=f"/tmp/staff-members-confirm-{name}.png", full_page=True)
            await audit.check(page, f"confirmation ({name})")

            await page.goto(f"{base}/agents/comptes")
            await page.get_by_role("link", name="Inviter un membre du personnel").click()
            await page.get_by_label("Adresse électronique professionnelle").fill("pas-une-adresse")
            await page.get_by_label("Administrateur").check()
            await page.get_by_role("button", name="Envoyer l'invitation").click()
            await page.get_by_role("alert").filter(has_text="n'est pas valide").wait_for()
            await page.screenshot(path=f"/tmp/staff-members-invite-{name}.png", full_page=True)
            await audit.check(page, f"invitation form ({name})")
            await page.get_by_label("Adresse électronique professionnelle").fill(
                unique_email(f"nouveau-{name}")
            )
            await page.get_by_role("button", name="Envoyer l'invitation").click()
            await page.get_by_role("status").filter(has_text="L'invitation est envoyée").wait_for()
            await page.close()
    assert not audit.found, audit.report()
