"""In a real (headless) Chromium: a parent opens "Mes factures", downloads the PDF, pays it
with the PayFiP simulator, and finds it under « SOLDÉES »."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from tests.browser import PHONE, chromium, requires_chromium, sign_in_on_page
from tests.gateway.fakes import PASSWORD

from .conftest import Portal
from .test_payments import issued_invoice

PARENT = "famille.test@example.org"

pytestmark = [
    pytest.mark.browser,
    requires_chromium,
]


async def test_a_parent_downloads_an_invoice_pays_it_online_and_sees_it_settled(
    portal: Portal, tmp_path: Path
) -> None:
    family, invoice = await issued_invoice(portal)
    portal.auth.accounts[PARENT] = [family]
    base = portal.gateway_url
    violations: list[str] = []

    async with chromium() as browser:
        context = await browser.new_context(viewport=PHONE, is_mobile=True, accept_downloads=True)
        page = await context.new_page()
        page.on(
            "console",
            lambda m: violations.append(m.text) if "Content Security" in m.text else None,
        )
        await sign_in_on_page(page, base, PARENT, PASSWORD)

        await page.goto(f"{base}/factures")
        main = page.locator("main")
        text = await main.inner_text()
        assert "Situation financière" in text
        assert "1 Facture à régler" in text and "24,00\u00a0€ Solde dû au" in text
        assert "seuls les avis des sommes à payer envoyés par le Trésor Public" in text
        row = page.locator(f'[data-invoice="{invoice["number"]}"]')
        assert "24,00\u00a0€ Montant dû" in await row.inner_text()
        await page.screenshot(path="/tmp/billing-factures-phone.png", full_page=True)

        async with page.expect_download() as waiting:
            await row.get_by_role("link", name="Télécharger le PDF").click()
        download = await waiting.value
        saved = tmp_path / "facture.pdf"
        await download.save_as(str(saved))
        assert download.suggested_filename == f"facture-{invoice['number']}.pdf"
        pdf_text = PdfReader(io.BytesIO(saved.read_bytes())).pages[0].extract_text()
        assert f"FACTURE N° {invoice['number']}" in pdf_text

        await row.get_by_role("button", name="Payer en ligne (TIPI)").click()
        await page.get_by_text("PayFiP (simulateur hors ligne)").wait_for()
        assert "24,00\u00a0€" in await page.locator("[data-amount]").inner_text()
        await page.screenshot(path="/tmp/billing-payfip-simulator.png")
        await page.get_by_role("button", name="Payer").click()
        await page.wait_for_url(f"{base}/factures/paiement?tentative=*")
        status = page.locator("[data-attempt-state]")
        assert await status.get_attribute("data-attempt-state") == "paid"
        assert "Votre paiement a été enregistré" in await status.inner_text()
        await page.screenshot(path="/tmp/billing-paid-phone.png")

        await page.get_by_role("link", name="Retour à mes factures").click()
        await page.get_by_role("link", name="À PAYER").click()
        assert "Aucune facture à payer." in await page.locator("main").inner_text()
        await page.get_by_role("link", name="SOLDÉES").click()
        settled = page.locator(f'[data-invoice="{invoice["number"]}"]')
        assert await settled.locator("[data-state]").inner_text() == "Soldée"
        assert "0,00\u00a0€" in await settled.locator("[data-balance]").inner_text()
        await page.screenshot(path="/tmp/billing-soldees-phone.png", full_page=True)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]
    assert violations == []


async def test_the_staff_invoice_list_scrolls_inside_its_box_on_a_phone(portal: Portal) -> None:
    await issued_invoice(portal)
    base = portal.gateway_url
    async with chromium() as browser:
        narrow = {"width": 360, "height": 740}  # the smallest phone the pages must fit
        page = await browser.new_page(viewport=narrow, is_mobile=True)
        await sign_in_on_page(page, base, "agent@example.org", PASSWORD)
        await page.goto(f"{base}/agents/factures")
        await page.screenshot(path="/tmp/billing-staff-invoices-phone.png", full_page=True)
        assert await page.locator("table.billing-table tbody tr").count() >= 1
        # The hidden « F2… » after each button stays in the table's scroller and the
        # family field shrinks: the page is no wider than the phone (it was 658, then 390).
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= narrow["width"], width

        # Staff find the family by its name and pick it (no raw id to type).
        await page.get_by_label("Famille : nom ou identifiant").fill("payeu")
        await page.get_by_role("button", name="Rechercher").click()
        await page.get_by_role("heading", name="Choisir la famille").wait_for()
        await page.screenshot(path="/tmp/billing-staff-family-search-phone.png", full_page=True)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= narrow["width"], width
        await page.get_by_role("link", name="PAYEUR").first.click()
        await page.get_by_role("heading", name="Relevé de compte").wait_for()
        assert "famille=" in page.url


async def test_the_staff_invoices_read_as_labelled_blocks_on_a_phone(portal: Portal) -> None:
    """At 390 px the state and the actions sat off to the side in a scrolling box, beside
    tall empty rows: each invoice is now a block whose lines say what they are."""
    await issued_invoice(portal)
    base = portal.gateway_url
    async with chromium() as browser:
        page = await browser.new_page(viewport=PHONE, is_mobile=True)
        await sign_in_on_page(page, base, "agent@example.org", PASSWORD)
        await page.goto(f"{base}/agents/factures")
        await page.screenshot(path="/tmp/billing-staff-invoices-390.png", full_page=True)

        row = page.locator("table.billing-table tbody tr").first
        state = row.locator("td[data-label='État']")
        actions = row.locator("td").last
        for cell in (state, actions):
            box = await cell.bounding_box()
            assert box is not None
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
        label = await state.evaluate("cell => getComputedStyle(cell, '::before').content")
        assert "État" in label, label
        assert await actions.get_by_role("button", name="Avoir").is_visible()
        # No tall row of empty cells: the row is not much taller than its contents.
        row_box, actions_box = await row.bounding_box(), await actions.bounding_box()
        assert row_box and actions_box
        assert row_box["y"] + row_box["height"] - (actions_box["y"] + actions_box["height"]) < 40
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], width


async def statement_cells_on(page: Any, base: str, family: str, lang: str) -> Any:
    """The account statement's cells, the page opened in `lang`."""
    await page.goto(f"{base}/agents/factures?famille={family}&lang={lang}")
    name = "Relevé de compte" if lang == "fr" else "Account statement"
    return page.get_by_role("table", name=name).locator("tbody td")


async def test_the_account_statement_reads_as_labelled_blocks_on_a_phone(portal: Portal) -> None:
    """At 390 px the « Relevé de compte » scrolled sideways in its box, the balance out of
    sight: each line is now a block whose values say what they are; the desktop keeps the
    table and its column headers."""
    family, _invoice = await issued_invoice(portal)
    base = portal.gateway_url
    before = "cell => getComputedStyle(cell, '::before').content"
    async with chromium() as browser:
        page = await browser.new_page(viewport=PHONE, is_mobile=True)
        await sign_in_on_page(page, base, "agent@example.org", PASSWORD)
        await page.goto(f"{base}/agents/factures?famille={family}")
        await page.get_by_label("Montant (€)").fill("10")  # a credit line too
        await page.get_by_role("button", name="Enregistrer", exact=True).click()
        await page.wait_for_load_state()

        for lang, balance in (("fr", "Solde : "), ("en", "Balance: ")):
            cells = await statement_cells_on(page, base, family, lang)
            await page.screenshot(path=f"/tmp/helperA-statement-phone-{lang}.png", full_page=True)
            assert await cells.count() >= 10  # the invoice and the payment
            table = page.locator("table.billing-table").first
            assert await table.evaluate("t => t.scrollWidth <= t.clientWidth")
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= await page.evaluate("window.innerWidth"), width
            for cell in await cells.all():
                box = await cell.bounding_box()
                assert box is None or box["x"] + box["width"] <= PHONE["width"], box
            assert balance in await cells.nth(4).evaluate(before)

        await page.set_viewport_size({"width": 1280, "height": 900})
        for lang in ("fr", "en"):
            cells = await statement_cells_on(page, base, family, lang)
            await page.screenshot(path=f"/tmp/helperA-statement-desktop-{lang}.png", full_page=True)
            header = page.get_by_role("columnheader", name="Solde" if lang == "fr" else "Balance")
            assert await header.first.is_visible()
            assert await cells.nth(4).evaluate(before) in ("none", "normal")


# Each staff billing page's tables and the label its first row's first and last cells carry
# on a phone, in French and in English.
RUN_TABLE_LABELS = {
    "runs": {"fr": ("Mois : ", "Total : "), "en": ("Month: ", "Total: ")},
    "run": {"fr": ("Famille : ", "Montant : "), "en": ("Family: ", "Amount: ")},
}


async def test_the_billing_runs_read_as_labelled_blocks_on_a_phone(portal: Portal) -> None:
    """At 390 px the runs and a run's invoices scrolled sideways in their box, the amounts out
    of sight: each row is now a block whose values say what they are; the desktop keeps the
    table and its column headers. The other staff billing pages fit the phone too."""
    family, _invoice = await issued_invoice(portal)
    portal.lines.add(family, "kid", "Kid PAYEUR", date(2026, 4, 2))
    # A household's long name, as the town has them: wider than a phone's columns.
    long_name = await portal.family("ETCHEVERRY-HARISPURU-LARRALDE", quotient=700)
    portal.lines.add(long_name, "kid2", "Kid ETCHEVERRY", date(2026, 4, 2))
    preview = await portal.preview("2026-04")
    addresses = {"runs": "/agents/facturation", "run": f"/agents/facturation/{preview['id']}"}
    others = ("/agents/factures", f"/agents/factures?famille={family}")
    base = portal.gateway_url
    before = "cell => getComputedStyle(cell, '::before').content"
    async with chromium() as browser:
        page = await browser.new_page(viewport=PHONE, is_mobile=True)
        await sign_in_on_page(page, base, "agent@example.org", PASSWORD)
        for name, address in addresses.items():
            for lang, (first, last) in RUN_TABLE_LABELS[name].items():
                await page.goto(f"{base}{address}?lang={lang}")
                await page.screenshot(path=f"/tmp/helperC-{name}-phone-{lang}.png", full_page=True)
                await fits_the_phone(page)
                title = "Invoicing: April 2026" if lang == "en" else "Facturation : avril 2026"
                if name == "run":
                    assert await page.get_by_role("heading", name=title).is_visible()
                cells = page.locator("table.billing-table tbody tr").first.locator("td")
                assert first in await cells.first.evaluate(before)
                assert last in await cells.last.evaluate(before)
                assert await cells.last.is_visible()
        for number, address in enumerate(others):
            await page.goto(f"{base}{address}")
            await page.screenshot(path=f"/tmp/helperC-other-{number}.png", full_page=True)
            await fits_the_phone(page)

        await page.set_viewport_size({"width": 1280, "height": 900})
        for name, address in addresses.items():
            for lang, (first, _last) in RUN_TABLE_LABELS[name].items():
                await page.goto(f"{base}{address}?lang={lang}")
                await page.screenshot(
                    path=f"/tmp/helperC-{name}-desktop-{lang}.png", full_page=True
                )
                header = first.rstrip(" :")
                assert await page.get_by_role("columnheader", name=header).is_visible()
                cell = page.locator("table.billing-table tbody td").first
                assert await cell.evaluate(before) in ("none", "normal")


async def fits_the_phone(page: Any) -> None:
    """No sideways scrolling: neither the page nor any table is wider than the screen."""
    screen = await page.evaluate("window.innerWidth")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= screen, (page.url, width)
    for table in await page.locator("table").all():
        assert await table.evaluate("t => t.scrollWidth <= t.clientWidth"), page.url
        box = await table.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= screen, box
