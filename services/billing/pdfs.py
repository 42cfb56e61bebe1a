"""Each issued invoice's PDF: rendered once, stored in S3 under a server-made key.

`render_missing_pdfs` renders every issued invoice that has no PDF yet (after a publication,
and from the reconciliation job should a render have failed). The key is written with a
conditional UPDATE (`WHERE pdf_key IS NULL`), so two renderers racing keep one PDF.
"""

from __future__ import annotations

import asyncio

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.kit.database import Database

from .config import BillingSettings
from .models import Invoice
from .pdf import Header, InvoiceDoc, LineDoc, render_invoice
from .storage import Storage, new_key

log = structlog.get_logger(__name__)
BATCH = 200


def header_of(settings: BillingSettings) -> Header:
    """The structure's header from the settings."""
    return Header(
        settings.org_name, settings.org_service, settings.org_address, settings.org_contact
    )


def document_of(invoice: Invoice, credits_number: str | None = None) -> InvoiceDoc:
    """What the PDF prints, as issued (nothing paid yet for an invoice)."""
    assert invoice.number is not None and invoice.issued_on is not None
    return InvoiceDoc(
        number=invoice.number,
        kind=invoice.kind,
        issued_on=invoice.issued_on,
        due_on=invoice.due_on if invoice.kind == "invoice" else None,
        month=invoice.month,
        family_name=invoice.family_name,
        family_address=invoice.family_address,
        quotient=invoice.quotient,
        resident=invoice.resident,
        amount_cents=invoice.amount_cents,
        paid_cents=invoice.amount_cents - invoice.balance_cents if invoice.kind == "invoice" else 0,
        balance_cents=invoice.balance_cents,
        lines=tuple(
            LineDoc(
                x.person_name,
                x.day,
                x.activity_name,
                x.unit,
                x.attendance,
                x.unit_price_cents,
                x.amount_cents,
            )
            for x in invoice.lines
        ),
        reason=invoice.cancel_reason,
        credits_number=credits_number,
    )


async def _credited_number(session: AsyncSession, invoice: Invoice) -> str | None:
    if invoice.credits_invoice_id is None:
        return None
    credited = await session.get(Invoice, invoice.credits_invoice_id)
    return credited.number if credited else None


async def ensure_pdf(
    database: Database, storage: Storage, settings: BillingSettings, invoice_id: str
) -> str | None:
    """The invoice's PDF key, rendering and storing it first when it has none."""
    async with database.sessions() as session:
        invoice = await session.get(Invoice, invoice_id)
        if invoice is None or invoice.number is None:
            return None
        if invoice.pdf_key:
            return invoice.pdf_key
        document = document_of(invoice, await _credited_number(session, invoice))
    data = await asyncio.to_thread(render_invoice, document, header_of(settings))
    key = new_key()
    await storage.put_pdf(key, data)
    async with database.transaction() as session:
        result = await session.execute(
            update(Invoice)
            .where(Invoice.id == invoice_id, Invoice.pdf_key.is_(None))
            .values(pdf_key=key)
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            # Another renderer won: its PDF is the one; ours is left unreferenced.
            winner = await session.get(Invoice, invoice_id)
            return winner.pdf_key if winner else None
    return key


async def render_missing_pdfs(
    database: Database, storage: Storage, settings: BillingSettings, *, run_id: str | None = None
) -> int:
    """Render the PDFs issued invoices lack (a run's, or all); returns how many."""
    statement = select(Invoice.id).where(Invoice.number.is_not(None), Invoice.pdf_key.is_(None))
    if run_id is not None:
        statement = statement.where(Invoice.run_id == run_id)
    async with database.sessions() as session:
        ids = list(await session.scalars(statement))
    gate = asyncio.Semaphore(settings.pdf_concurrency)
    done = 0

    async def one(invoice_id: str) -> None:
        nonlocal done
        async with gate:
            try:
                if await ensure_pdf(database, storage, settings, invoice_id):
                    done += 1
            except Exception as exc:
                # Rendered later by the reconciliation job; the invoice itself is issued.
                log.warning("pdf_render_failed", invoice_id=invoice_id, error=type(exc).__name__)

    for start in range(0, len(ids), BATCH):
        await asyncio.gather(*(one(i) for i in ids[start : start + BATCH]))
    return done
