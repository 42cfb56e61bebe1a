"""Each issued invoice's PDF: rendered once, stored in S3 under a server-made key.

`render_missing_pdfs` renders every issued invoice that has no PDF yet (after a publication,
and from the reconciliation job should a render have failed). The key is written with a
conditional UPDATE (`WHERE pdf_key IS NULL`), so two renderers racing keep one PDF.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor

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
    database: Database,
    storage: Storage,
    settings: BillingSettings,
    *,
    run_id: str | None = None,
    executor: Executor | None = None,
) -> int:
    """Render the PDFs issued invoices lack (a run's, or all); returns how many.

    By batches: one query loads a batch with its lines, the PDFs are rendered (in threads)
    and stored concurrently, and one transaction records their keys. A PDF that fails is
    left for the reconciliation job; the batch goes on. Rendering is CPU work: with a
    process pool as `executor` it runs beside the event loop instead of under its GIL.
    """
    loop = asyncio.get_running_loop()
    header = header_of(settings)
    gate = asyncio.Semaphore(settings.pdf_concurrency)
    done = 0
    after = ""
    while True:
        statement = (
            select(Invoice)
            .where(Invoice.number.is_not(None), Invoice.pdf_key.is_(None), Invoice.id > after)
            .order_by(Invoice.id)
            .limit(BATCH)
        )
        if run_id is not None:
            statement = statement.where(Invoice.run_id == run_id)
        async with database.sessions() as session:
            batch = list(await session.scalars(statement))
            documents = [(i.id, document_of(i, await _credited_number(session, i))) for i in batch]
        if not documents:
            return done
        after = documents[-1][0]

        async def one(invoice_id: str, document: InvoiceDoc) -> tuple[str, str] | None:
            async with gate:
                try:
                    data = await loop.run_in_executor(executor, render_invoice, document, header)
                    key = new_key()
                    await storage.put_pdf(key, data)
                    return invoice_id, key
                except Exception as exc:
                    log.warning(
                        "pdf_render_failed", invoice_id=invoice_id, error=type(exc).__name__
                    )
                    return None

        stored = [r for r in await asyncio.gather(*(one(i, d) for i, d in documents)) if r]
        async with database.transaction() as session:
            for invoice_id, key in stored:
                result = await session.execute(
                    update(Invoice)
                    .where(Invoice.id == invoice_id, Invoice.pdf_key.is_(None))
                    .values(pdf_key=key)
                )
                done += result.rowcount or 0  # type: ignore[attr-defined]
