"""CSV exports for the finance software: invoices of a month, payments of a period.

Semicolon-separated, UTF-8 with a BOM (what French spreadsheets open correctly), amounts in
cents AND in euros with a comma; cells starting with = + - @ are prefixed with a quote so
that a spreadsheet never runs them as formulas.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import Invoice, Payment

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _euros(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100},{abs(cents) % 100:02d}"


def to_csv(header: list[str], rows: Iterable[list[Any]]) -> bytes:
    """The rows as a CSV document."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode()


async def invoices_csv(session: AsyncSession, *, month: str | None) -> bytes:
    """Issued invoices and credit notes (of a month when given)."""
    statement = select(Invoice).where(Invoice.state != "draft")
    if month:
        statement = statement.where(Invoice.month == month)
    statement = statement.order_by(Invoice.number)
    rows = [
        [
            i.number,
            "avoir" if i.kind == "credit_note" else "facture",
            i.issued_on,
            i.month,
            i.family_id,
            i.family_name,
            i.amount_cents,
            _euros(i.amount_cents),
            i.balance_cents,
            _euros(i.balance_cents),
            i.state,
            i.due_on,
        ]
        for i in await session.scalars(statement)
    ]
    header = [
        "numero", "type", "date", "periode", "famille_id", "famille", "montant_centimes",
        "montant", "solde_centimes", "solde", "etat", "echeance",
    ]  # fmt: skip
    return to_csv(header, rows)


async def payments_csv(session: AsyncSession, *, start: date | None, end: date | None) -> bytes:
    """Payments received in [start, end], one row per allocation (or one unallocated row)."""
    statement = select(Payment)
    if start:
        statement = statement.where(Payment.received_on >= start)
    if end:
        statement = statement.where(Payment.received_on <= end)
    payments = list(
        await session.scalars(statement.order_by(Payment.received_on, Payment.receipt_number))
    )
    numbers = {
        i.id: i.number
        for i in await session.scalars(
            select(Invoice).where(
                Invoice.id.in_({a.invoice_id for p in payments for a in p.allocations})
            )
        )
    }
    rows: list[list[object]] = []
    for p in payments:
        base: list[object] = [
            p.receipt_number,
            p.received_on,
            p.family_id,
            p.method,
            p.reference,
            p.amount_cents,
            _euros(p.amount_cents),
        ]
        if not p.allocations:
            rows.append([*base, "", 0, _euros(0)])
        for a in p.allocations:
            rows.append(
                [*base, numbers.get(a.invoice_id, ""), a.amount_cents, _euros(a.amount_cents)]
            )
    header = [
        "recu", "date", "famille_id", "mode", "reference", "montant_centimes", "montant",
        "facture", "impute_centimes", "impute",
    ]  # fmt: skip
    return to_csv(header, rows)
