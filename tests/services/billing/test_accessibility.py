"""The billing pages the gateway's audit leaves out pass axe-core's WCAG 2.1 A/AA audit in a
real Chromium: a billing run, a family's statement with its credit-note forms, and the page
after a refused credit note and after one issued (the invoice reissued) for the agent on a
desktop; the return from PayFiP (a refused payment, then a paid one) for the parent on a
phone; one English page each.
Real billing and families behind the real gateway, PayFiP's offline simulator."""

from __future__ import annotations

import pytest

from tests.browser import PHONE, AccessibilityAudit, chromium, requires_chromium, sign_in_on_page
from tests.gateway.fakes import PASSWORD

from .conftest import Portal
from .test_browser import PARENT
from .test_payments import issued_invoice

pytestmark = [pytest.mark.browser, requires_chromium]

AGENT = "agent@example.org"
DESKTOP = {"width": 1280, "height": 900}


@pytest.mark.timeout(240)
async def test_the_payment_and_staff_invoice_pages_pass_the_accessibility_audit(
    portal: Portal,
) -> None:
    family, invoice = await issued_invoice(portal)
    portal.auth.accounts[PARENT] = [family]
    run = await portal.preview("2026-04")
    base = portal.gateway_url
    audit = AccessibilityAudit("billing")
    async with chromium() as browser:
        desktop = await browser.new_context(viewport=DESKTOP)
        page = await desktop.new_page()
        await sign_in_on_page(page, base, AGENT, PASSWORD)
        await page.goto(f"{base}/agents/facturation/{run['id']}")
        await audit.check(page, "/agents/facturation/<run> (a preview)")
        statement = f"{base}/agents/factures?famille={family}"
        await page.goto(statement)
        assert await page.get_by_role("button", name="Avoir").count() >= 1
        await audit.check(page, "/agents/factures?famille= (statement, credit-note form)")
        # Each credit-note control names its invoice to a screen reader, out of its row.
        number = invoice["number"]
        await page.get_by_label(f"Motif {number}", exact=True).fill("x")
        # A reason too short for the service, the browser's check bypassed: the refusal shown,
        # in the page's language (it was the kit's English sentence on a French page).
        async with page.expect_navigation():
            await page.locator("form[action*='/avoir']").first.evaluate("f => f.submit()")
        refusal = await page.get_by_role("alert").inner_text()
        assert refusal == "Certains champs sont manquants ou invalides.", refusal
        await audit.check(page, "/agents/factures/<id>/avoir (refused)")
        await page.goto(statement)
        await page.get_by_label(f"Motif {number}", exact=True).fill("Erreur de tarif")
        await page.get_by_label(
            f"réémettre une facture corrigée {number}"
        ).check()  # a new invoice for the parent
        await page.get_by_role("button", name=f"Avoir {number}", exact=True).click()
        await page.get_by_role("status").filter(has_text="émis").wait_for()
        await audit.check(page, "/agents/factures/<id>/avoir (credit note issued)")
        await page.goto(f"{statement}&lang=en")
        await audit.check(page, "/agents/factures?famille= (English)")
        await desktop.close()

        phone = await browser.new_context(viewport=PHONE, is_mobile=True)
        page = await phone.new_page()
        await sign_in_on_page(page, base, PARENT, PASSWORD)
        for choice, state, lang in (("Simuler un refus", "refused", "fr"), ("Payer", "paid", "en")):
            await page.goto(f"{base}/factures?lang={lang}")
            pay = "Pay online (TIPI)" if lang == "en" else "Payer en ligne (TIPI)"
            await page.get_by_role("button", name=pay).first.click()
            await page.get_by_role("button", name=choice).click()
            await page.wait_for_url(f"{base}/factures/paiement?tentative=*")
            shown = await page.locator("[data-attempt-state]").get_attribute("data-attempt-state")
            assert shown == state, (choice, shown)
            await audit.check(page, f"/factures/paiement ({state}, {lang})")
        await phone.close()
    assert not audit.found, audit.report()
