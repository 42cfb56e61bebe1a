"""The PDF itself: a long month runs over several pages, each with the header; the totals,
how to pay and the Treasury's warning close the last one."""

from __future__ import annotations

import io
from datetime import date, timedelta

from pypdf import PdfReader

from services.billing.pdf import Header, InvoiceDoc, LineDoc, render_invoice, render_receipt

HEADER = Header("Mairie de Hasparren", "Service enfance", "Place de la Mairie", "05 59 00 00 00")


def _doc(lines: int) -> InvoiceDoc:
    start = date(2026, 3, 1)
    return InvoiceDoc(
        number="F260400007",
        kind="invoice",
        issued_on=date(2026, 4, 1),
        due_on=date(2026, 5, 1),
        month="2026-03",
        family_name="TEST",
        family_address="1 place de la Mairie, 64240 Hasparren",
        quotient=None,
        resident=False,
        amount_cents=lines * 700,
        paid_cents=0,
        balance_cents=lines * 700,
        lines=tuple(
            LineDoc(
                f"Enfant {n % 3}",
                start + timedelta(days=n % 31),
                "ALSH Josta Leku",
                "apres_midi",
                "present",
                700,
                700,
            )
            for n in range(lines)
        ),
    )


def test_a_long_invoice_runs_over_pages_and_ends_with_totals_and_the_warning() -> None:
    pages = PdfReader(io.BytesIO(render_invoice(_doc(90), HEADER))).pages
    assert len(pages) >= 2
    texts = [p.extract_text() for p in pages]
    for number, text in enumerate(texts, start=1):
        assert "FACTURE N° F260400007" in text and f"Page {number}" in text
    assert sum(t.count("ALSH Josta Leku — après-midi") for t in texts) == 90
    assert "Solde dû" not in texts[0] and "Solde dû" in texts[-1]
    assert "630,00 €" in texts[-1]
    assert "non communiqué (tarif le plus élevé) — non résident" in texts[0]
    assert "avis des sommes à payer" in texts[-1] and "avis des sommes" not in texts[0]


def test_a_receipt_names_the_invoices_it_settles() -> None:
    data = render_receipt(
        "R260400001", date(2026, 4, 10), 2400, "cheque", [("F260400007", 2400)], HEADER
    )
    text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert "REÇU N° R260400001" in text and "Chèque" in text and "F260400007 : 24,00 €" in text


def test_amounts_in_the_pdf_are_french_and_thousands_draw_no_black_box() -> None:
    data = render_receipt(
        "R260400002", date(2026, 4, 10), 123450, "cheque", [("F260400007", 123450)], HEADER
    )
    text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    # pypdf reads the no-break spaces back as plain spaces; a glyph Helvetica lacks as « ■ ».
    assert "la somme de 1 234,50 €" in text and "F260400007 : 1 234,50 €" in text
    assert "■" not in text and "1234.50" not in text
