"""Invoices as families and staff read them; credit notes; the family account statement."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.kit.database import Database
from services.kit.outbox import record_event, utcnow

from . import events, paging
from .config import BillingSettings
from .errors import InvoiceNotFound, InvoiceStateConflict
from .invoicing import SOURCE, issue, issued_event
from .models import Invoice, InvoiceLine, OutboxMessage, Payment, PaymentAllocation
from .money import euros
from .paging import Position
from .payment_methods import method_label
from .pdfs import ensure_pdf
from .schemas import SETTLED_STATES, TO_PAY_STATES, StatementEntry
from .storage import Storage

VISIBLE = Invoice.state != "draft"


def to_pay_filter() -> ColumnElement[bool]:
    """Invoices with something left to pay."""
    return (
        (Invoice.kind == "invoice") & Invoice.state.in_(TO_PAY_STATES) & (Invoice.balance_cents > 0)
    )


async def list_invoices(
    session: AsyncSession,
    *,
    family_id: str,
    view: str = "to_pay",
    year: int | None = None,
    number: str | None = None,
) -> list[Invoice]:
    """A family's issued invoices, newest first: to pay, settled, or all."""
    statement = select(Invoice).where(Invoice.family_id == family_id, VISIBLE)
    if view == "to_pay":
        statement = statement.where(to_pay_filter())
    elif view == "settled":
        statement = statement.where(
            or_(Invoice.state.in_(SETTLED_STATES), Invoice.balance_cents == 0)
        )
    if year is not None:
        statement = statement.where(
            Invoice.issued_on >= date(year, 1, 1), Invoice.issued_on <= date(year, 12, 31)
        )
    if number:
        statement = statement.where(Invoice.number.contains(number.upper(), autoescape=True))
    statement = statement.order_by(Invoice.issued_on.desc(), Invoice.number.desc())
    return list(await session.scalars(statement))


async def situation(session: AsyncSession, *, family_id: str) -> tuple[int, int]:
    """("Situation financière") the number of invoices to pay and the balance due."""
    row = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(Invoice.balance_cents), 0)).where(
                Invoice.family_id == family_id, to_pay_filter()
            )
        )
    ).one()
    return int(row[0]), int(row[1])


@dataclass(frozen=True)
class StaffPage:
    """One page of the staff invoice list, and the whole filter's count and situation."""

    items: list[Invoice]
    next: Position | None  # the last item's position, when more follow
    total: int
    to_pay_count: int
    balance_due_cents: int


async def staff_invoices(
    session: AsyncSession,
    *,
    family_id: str | None,
    month: str | None,
    state: str,
    limit: int,
    offset: int = 0,
    after: Position | None = None,
) -> StaffPage:
    """One page of the issued invoices (newest number first; the id breaks ties, so pages
    never overlap), from `after` (keyset) or `offset`, with the count, the number to pay and
    the balance due of the whole filter — never of the page, whatever the position."""
    where: list[ColumnElement[bool]] = [VISIBLE]
    if family_id:
        where.append(Invoice.family_id == family_id)
    if month:
        where.append(Invoice.month == month)
    if state == "to_pay":
        where.append(to_pay_filter())
    elif state == "settled":
        where.append(Invoice.balance_cents == 0)
    page = (
        select(Invoice)
        .where(*where, *([paging.after(after)] if after is not None else []))
        .order_by(Invoice.number.desc().nulls_last(), Invoice.id.desc())
        # One more than asked tells whether another page follows, so the last page has no
        # cursor (a full last page would otherwise send the caller to an empty one).
        .limit(limit + 1)
        .offset(offset)
    )
    live = Invoice.state != "cancelled"
    totals = select(
        func.count(),
        func.count().filter(live & (Invoice.balance_cents > 0)),
        func.coalesce(func.sum(Invoice.balance_cents).filter(live), 0),
    ).where(*where)
    found = list(await session.scalars(page))
    total, to_pay, due = (await session.execute(totals)).one()
    items = found[:limit]
    more = len(found) > limit
    return StaffPage(
        items, Position.of(items[-1]) if more else None, int(total), int(to_pay), int(due)
    )


async def get_invoice(session: AsyncSession, *, invoice_id: str, family_id: str | None) -> Invoice:
    """An issued invoice (of this family when given), or 404."""
    invoice = await session.get(Invoice, invoice_id)
    if invoice is None or (family_id is not None and invoice.family_id != family_id):
        raise InvoiceNotFound("Cette facture n'existe pas.")
    if family_id is not None and invoice.state == "draft":
        raise InvoiceNotFound("Cette facture n'existe pas.")
    return invoice


async def credit(
    database: Database,
    storage: Storage,
    settings: BillingSettings,
    *,
    invoice_id: str,
    reason: str,
    reissue: bool,
    remove_days: list[date],
    actor: dict[str, str],
) -> tuple[Invoice, Invoice, Invoice | None]:
    """Cancel an issued invoice with a credit note; reissue it (minus some days) if asked.
    `actor`: who (`Identity.acted`), in the events.

    An issued invoice is never edited. What was paid on it moves to the reissued invoice;
    without a reissue, an invoice with payments is refused (refund first).
    """
    async with database.transaction() as session:
        invoice = await session.get(Invoice, invoice_id, with_for_update=True)
        if invoice is None or invoice.state == "draft":
            raise InvoiceNotFound("Cette facture n'existe pas.")
        if invoice.kind != "invoice" or invoice.state == "cancelled":
            raise InvoiceStateConflict(
                f"La facture {invoice.number} est {invoice.state} : elle ne peut pas être annulée."
            )
        paid = invoice.amount_cents - invoice.balance_cents
        kept = [x for x in invoice.lines if x.day not in set(remove_days)]
        new_total = sum(x.amount_cents for x in kept)
        if paid and not reissue:
            raise InvoiceStateConflict(
                f"{euros(paid)} ont déjà été réglés sur {invoice.number} : réémettez la "
                "facture (le règlement y est reporté) ou remboursez d'abord."
            )
        if paid > new_total:
            raise InvoiceStateConflict(
                f"Le montant réémis ({euros(new_total)}) est inférieur au montant déjà "
                f"réglé ({euros(paid)}) : remboursez d'abord la différence."
            )
        now = utcnow()
        note = Invoice(
            id=str(uuid.uuid4()),
            family_id=invoice.family_id,
            amount_cents=invoice.amount_cents,
            balance_cents=0,
            kind="credit_note",
            state="draft",
            month=invoice.month,
            family_name=invoice.family_name,
            family_address=invoice.family_address,
            family_email=invoice.family_email,
            quotient=invoice.quotient,
            resident=invoice.resident,
            credits_invoice_id=invoice.id,
            cancel_reason=reason,
            created_at=now,
            updated_at=now,
            lines=[_copy(x) for x in invoice.lines],
        )
        session.add(note)
        await issue(session, note, settings, prefix=settings.credit_note_prefix)
        invoice.state = "cancelled"
        invoice.balance_cents = 0
        invoice.cancel_reason = reason
        invoice.updated_at = now
        reissued = None
        if reissue:
            reissued = Invoice(
                id=str(uuid.uuid4()),
                family_id=invoice.family_id,
                amount_cents=new_total,
                balance_cents=new_total - paid,
                kind="invoice",
                state="draft",
                month=invoice.month,
                family_name=invoice.family_name,
                family_address=invoice.family_address,
                family_email=invoice.family_email,
                quotient=invoice.quotient,
                resident=invoice.resident,
                replaces_invoice_id=invoice.id,
                created_at=now,
                updated_at=now,
                lines=[_copy(x) for x in kept],
            )
            session.add(reissued)
            await issue(session, reissued, settings)
            if paid:
                reissued.state = "paid" if reissued.balance_cents == 0 else "partially_paid"
                allocations = await session.scalars(
                    select(PaymentAllocation).where(PaymentAllocation.invoice_id == invoice.id)
                )
                for allocation in allocations:
                    allocation.invoice_id = reissued.id
            issued_event(session, reissued, actor)
        record_event(
            session,
            OutboxMessage,
            source=SOURCE,
            event_type=events.INVOICE_CANCELLED,
            family_id=invoice.family_id,
            data={
                "invoice_id": invoice.id,
                "number": invoice.number,
                "reason": reason,
                "credit_note_number": note.number,
                "reissued_number": reissued.number if reissued else None,
                **actor,
            },
        )
    for document in (note, reissued):
        if document is not None:
            await ensure_pdf(database, storage, settings, document.id)
    return invoice, note, reissued


def _copy(line: InvoiceLine) -> InvoiceLine:
    return InvoiceLine(
        id=str(uuid.uuid4()),
        person_id=line.person_id,
        person_name=line.person_name,
        activity_id=line.activity_id,
        activity_name=line.activity_name,
        unit=line.unit,
        day=line.day,
        attendance=line.attendance,
        unit_price_cents=line.unit_price_cents,
        amount_cents=line.amount_cents,
        tariff_id=line.tariff_id,
    )


async def transmit(database: Database, *, invoice_id: str) -> Invoice:
    """Mark an unpaid invoice as handed to the Treasury for collection."""
    async with database.transaction() as session:
        invoice = await session.get(Invoice, invoice_id, with_for_update=True)
        if invoice is None or invoice.state == "draft":
            raise InvoiceNotFound("Cette facture n'existe pas.")
        if invoice.kind != "invoice" or invoice.state not in ("issued", "partially_paid"):
            raise InvoiceStateConflict(
                f"La facture {invoice.number} est {invoice.state} : seule une facture à payer "
                "se transmet au Trésor Public."
            )
        invoice.state = "sent_to_treasury"
        invoice.updated_at = utcnow()
        return invoice


async def statement(session: AsyncSession, *, family_id: str) -> tuple[list[StatementEntry], int]:
    """The family's account: invoices and credit notes (debit/credit) and payments."""
    rows: list[tuple[date, int, str, str, int, int]] = []
    invoices = await session.scalars(select(Invoice).where(Invoice.family_id == family_id, VISIBLE))
    for invoice in invoices:
        assert invoice.issued_on is not None
        if invoice.kind == "invoice":
            rows.append(
                (
                    invoice.issued_on,
                    0,
                    "invoice",
                    f"Facture {invoice.number}",
                    invoice.amount_cents,
                    0,
                )
            )
        else:
            rows.append(
                (
                    invoice.issued_on,
                    1,
                    "credit_note",
                    f"Avoir {invoice.number}",
                    0,
                    invoice.amount_cents,
                )
            )
    payments = await session.scalars(select(Payment).where(Payment.family_id == family_id))
    for payment in payments:
        rows.append(
            (
                payment.received_on,
                2,
                "payment",
                f"Règlement {payment.receipt_number} — {method_label(payment.method)}",
                0,
                payment.amount_cents,
            )
        )
    rows.sort(key=lambda r: (r[0], r[1], r[3]))
    balance = 0
    entries = []
    for on, _, kind, label, debit, credit_cents in rows:
        balance += debit - credit_cents
        entries.append(
            StatementEntry(
                on=on,
                kind=kind,
                label=label,
                debit_cents=debit,
                credit_cents=credit_cents,
                balance_cents=balance,
            )
        )
    return entries, balance
