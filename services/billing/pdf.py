"""The invoice PDF (reportlab, pure Python): header, family, lines, totals, how to pay, warning.

Drawn on a canvas rather than with platypus: a monthly run makes thousands of them and a
canvas page is several times faster to build. Rendering is CPU work: callers run it in a
thread (or a process pool for the bench).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from .line_labels import ATTENDANCE, UNIT_LABELS
from .money import NARROW_NO_BREAK_SPACE, NO_BREAK_SPACE, euros
from .payment_methods import method_label

TREASURY_WARNING = (
    "Attention : seuls les avis des sommes à payer envoyés par le Trésor Public sont à utiliser "
    "pour le paiement des factures. Vous ne pourrez pas utiliser les factures de cet espace pour "
    "régler votre dette. L'historique des factures proposé dans le Portail des Familles sert à "
    "consulter le détail des prestations réalisées."
)


def amount(cents: int) -> str:
    """`euros(cents)` as the PDF's Helvetica can draw it.

    Its WinAnsi encoding has no narrow no-break space (drawn as a black box): the
    thousands are separated by the no-break space, its closest glyph.
    """
    return euros(cents).replace(NARROW_NO_BREAK_SPACE, NO_BREAK_SPACE)


MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip


@dataclass(frozen=True)
class Header:
    """The structure that issues the invoice."""

    org_name: str
    service: str
    address: str
    contact: str


@dataclass(frozen=True)
class LineDoc:
    """One printed line."""

    person_name: str
    day: date
    activity_name: str
    unit: str
    attendance: str
    unit_price_cents: int
    amount_cents: int


@dataclass(frozen=True)
class InvoiceDoc:
    """Everything printed on one invoice, detached from the database."""

    number: str
    kind: str
    issued_on: date
    due_on: date | None
    month: str | None
    family_name: str
    family_address: str
    quotient: int | None
    resident: bool
    amount_cents: int
    paid_cents: int
    balance_cents: int
    lines: tuple[LineDoc, ...]
    reason: str | None = None
    credits_number: str | None = None


def month_label(month: str | None) -> str:
    """`2026-03` → `mars 2026`."""
    if not month:
        return ""
    year, number = month.split("-")
    return f"{MONTHS[int(number) - 1]} {year}"


def _wrap(canvas: Canvas, text: str, font: str, size: float, width: float) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        if canvas.stringWidth(trial, font, size) <= width:
            current = trial
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


def render_invoice(doc: InvoiceDoc, header: Header) -> bytes:
    """The PDF bytes of one invoice or credit note."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    title = "AVOIR" if doc.kind == "credit_note" else "FACTURE"
    canvas.setTitle(f"{title} {doc.number}")
    canvas.setAuthor(header.org_name)
    width, height = A4
    left, right = 18 * mm, width - 18 * mm
    page = 1

    def page_header() -> float:
        canvas.setFont("Helvetica-Bold", 14)
        canvas.drawString(left, height - 20 * mm, header.org_name)
        canvas.setFont("Helvetica", 9)
        canvas.drawString(left, height - 25 * mm, header.service)
        canvas.drawString(left, height - 29 * mm, header.address)
        canvas.drawString(left, height - 33 * mm, header.contact)
        canvas.setFont("Helvetica-Bold", 13)
        canvas.drawRightString(right, height - 20 * mm, f"{title} N° {doc.number}")
        canvas.setFont("Helvetica", 9)
        canvas.drawRightString(right, height - 25 * mm, f"du {doc.issued_on:%d/%m/%Y}")
        if doc.month:
            canvas.drawRightString(right, height - 29 * mm, f"Période : {month_label(doc.month)}")
        canvas.drawRightString(right, height - 33 * mm, f"Page {page}")
        return float(height - 42 * mm)

    y = page_header()
    # The family block.
    canvas.setFont("Helvetica-Bold", 11)
    canvas.drawString(width / 2, y, f"Famille {doc.family_name}")
    canvas.setFont("Helvetica", 9)
    for text in _wrap(canvas, doc.family_address, "Helvetica", 9, right - width / 2)[:3]:
        y -= 4.5 * mm
        canvas.drawString(width / 2, y, text)
    y -= 4.5 * mm
    qf = (
        f"Quotient familial : {doc.quotient}"
        if doc.quotient is not None
        else ("Quotient familial : non communiqué (tarif le plus élevé)")
    )
    canvas.drawString(width / 2, y, qf + (" — résident" if doc.resident else " — non résident"))
    y -= 10 * mm
    if doc.kind == "credit_note":
        canvas.setFont("Helvetica-Bold", 10)
        canvas.drawString(left, y, f"Avoir annulant la facture N° {doc.credits_number}")
        y -= 5 * mm
        canvas.setFont("Helvetica", 9)
        for text in _wrap(canvas, f"Motif : {doc.reason or ''}", "Helvetica", 9, right - left):
            canvas.drawString(left, y, text)
            y -= 4.5 * mm
        y -= 4 * mm

    columns = (left, left + 48 * mm, left + 70 * mm, left + 118 * mm, left + 138 * mm)

    def table_head(y: float) -> float:
        canvas.setFont("Helvetica-Bold", 8.5)
        for x, label in zip(
            columns,
            ("Enfant", "Date", "Activité / unité", "Présence", "Prix unitaire"),
            strict=True,
        ):
            canvas.drawString(x, y, label)
        canvas.drawRightString(right, y, "Montant")
        canvas.line(left, y - 1.5 * mm, right, y - 1.5 * mm)
        canvas.setFont("Helvetica", 8.5)
        return float(y - 5 * mm)

    y = table_head(y)
    for line in doc.lines:
        if y < 60 * mm:
            canvas.showPage()
            page += 1
            y = table_head(page_header())
        canvas.drawString(columns[0], y, line.person_name[:30])
        canvas.drawString(columns[1], y, f"{line.day:%d/%m/%Y}")
        canvas.drawString(
            columns[2],
            y,
            f"{line.activity_name[:24]} — {UNIT_LABELS.get(line.unit, line.unit)[:14]}",
        )
        canvas.drawString(columns[3], y, ATTENDANCE.get(line.attendance, line.attendance))
        canvas.drawString(columns[4], y, amount(line.unit_price_cents))
        canvas.drawRightString(right, y, amount(line.amount_cents))
        y -= 4.5 * mm

    # Totals, kept clear of the footer (how to pay, warning) that closes the last page.
    if y < 75 * mm:
        canvas.showPage()
        page += 1
        y = page_header()
    y -= 3 * mm
    canvas.line(left + 100 * mm, y + 2 * mm, right, y + 2 * mm)
    canvas.setFont("Helvetica-Bold", 10)
    canvas.drawString(left + 100 * mm, y - 2 * mm, "Montant dû")
    canvas.drawRightString(right, y - 2 * mm, amount(doc.amount_cents))
    canvas.setFont("Helvetica", 10)
    canvas.drawString(left + 100 * mm, y - 7 * mm, "Déjà réglé")
    canvas.drawRightString(right, y - 7 * mm, amount(doc.paid_cents))
    canvas.setFont("Helvetica-Bold", 10)
    canvas.drawString(left + 100 * mm, y - 12 * mm, "Solde dû")
    canvas.drawRightString(right, y - 12 * mm, amount(doc.balance_cents))

    # How to pay, then the manual's warning, at the foot of the last page.
    y = 44 * mm
    canvas.setFont("Helvetica-Bold", 9)
    canvas.drawString(left, y, "Comment payer")
    canvas.setFont("Helvetica", 8.5)
    due = f" avant le {doc.due_on:%d/%m/%Y}" if doc.due_on else ""
    how = (
        f"Paiement en ligne par carte bancaire (PayFiP) depuis « Mes factures » du Portail "
        f"Famille{due}, ou à réception de l'avis des sommes à payer du Trésor Public, selon "
        f"les moyens qu'il indique. Référence à rappeler : {doc.number}."
    )
    for text in _wrap(canvas, how, "Helvetica", 8.5, right - left):
        y -= 4 * mm
        canvas.drawString(left, y, text)
    y -= 6 * mm
    canvas.setFont("Helvetica-Bold", 8.5)
    for text in _wrap(canvas, TREASURY_WARNING, "Helvetica-Bold", 8.5, right - left):
        canvas.drawString(left, y, text)
        y -= 4 * mm
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def render_receipt(
    number: str,
    received_on: date,
    amount_cents: int,
    method: str,
    allocations: list[tuple[str, int]],
    header: Header,
) -> bytes:
    """The PDF receipt of one payment."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    canvas.setTitle(f"Reçu {number}")
    _, height = A4
    left = 18 * mm
    canvas.setFont("Helvetica-Bold", 14)
    canvas.drawString(left, height - 20 * mm, header.org_name)
    canvas.setFont("Helvetica", 9)
    canvas.drawString(left, height - 25 * mm, header.service)
    canvas.setFont("Helvetica-Bold", 13)
    canvas.drawString(left, height - 40 * mm, f"REÇU N° {number}")
    canvas.setFont("Helvetica", 10)
    y = height - 50 * mm
    for text in (
        f"Reçu le {received_on:%d/%m/%Y} la somme de {amount(amount_cents)}",
        f"Mode de règlement : {method_label(method)}",
    ):
        canvas.drawString(left, y, text)
        y -= 6 * mm
    for invoice_number, cents in allocations:
        canvas.drawString(
            left + 5 * mm, y, f"imputé sur la facture {invoice_number} : {amount(cents)}"
        )
        y -= 6 * mm
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
