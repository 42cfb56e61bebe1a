"""The demo's billing: tariffs of the manual's activities and the family TEST's invoices.

As in the manual, for the three months before the month to invoice (`portail.demo.billing_month`,
last month, which the staff's « Facturation » page opens on and whose ALSH days bookings' seed
marks attended): the latest month's invoice to pay, partly paid (`F……00001 — 35,00 € Montant dû
— 15,00 € Solde dû`), and the two months before settled, for the « SOLDÉES » history. Each month
has its published run and is marked invoiced, as a publication leaves it, so that the staff
page lists them and refuses to invoice them twice. Inserted directly, without events (demo data
is a starting point, not something that happened); the counters are set so that the next
numbers follow without a gap. PDFs are rendered on first download.

Idempotent: once the family TEST has invoices the seed adds none (they stay dated the day of
the first seed; a fresh `var/` dates them again).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portail.demo import (
    DEMO_ACTIVITY_ALSH,
    DEMO_ACTIVITY_ALSH_ID,
    DEMO_ACTIVITY_CANTINE,
    DEMO_ACTIVITY_CANTINE_ID,
    DEMO_ACTIVITY_PERISCOLAIRE,
    DEMO_ACTIVITY_PERISCOLAIRE_ID,
    DEMO_CHILD_FIRST_NAME,
    DEMO_CHILD_ID,
    DEMO_FAMILY_ID,
    DEMO_FAMILY_NAME,
    DEMO_PARENT_EMAIL,
    billing_month,
)
from services.kit.database import Database
from services.kit.outbox import utcnow

from .clock import PARIS
from .clock import today as paris_today
from .models import (
    ActivityRule,
    Invoice,
    InvoicedMonth,
    InvoiceLine,
    InvoicingRun,
    NumberCounter,
    Payment,
    PaymentAllocation,
    Tariff,
    TariffBracket,
)
from .money import euros
from .numbering import format_number

CHILD = f"{DEMO_CHILD_FIRST_NAME} {DEMO_FAMILY_NAME}"
DAY_PRICE = 700
# Oldest first: (days of ALSH, paid cents, method); the last one is partly paid.
HISTORY = ((4, 2800, "cheque"), (6, 4200, "payfip"), (5, 2000, "tresor_public"))


@dataclass(frozen=True)
class DemoInvoice:
    """One invoice of the demo, dated relative to the day the seed runs."""

    number: str
    month: str
    issued: date
    days: int
    paid: int
    method: str
    receipt: str
    received: date


def _first_of_month(on: date, months_back: int) -> date:
    index = on.year * 12 + on.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def demo_invoices(today: date) -> list[DemoInvoice]:
    """The three demo invoices: the three months before the month to invoice (the month
    before `today`'s), each issued on the 1st of the next month, numbered from 1 in the year
    of issue (the numbers encode yymm of issue)."""
    found: list[DemoInvoice] = []
    used: dict[tuple[str, int], int] = {}

    def next_number(prefix: str, on: date) -> str:
        used[(prefix, on.year)] = used.get((prefix, on.year), 0) + 1
        return format_number(prefix, on, used[(prefix, on.year)])

    to_invoice = billing_month(today)
    for back, (days, paid, method) in zip((3, 2, 1), HISTORY, strict=True):
        month = _first_of_month(to_invoice, back)
        issued = _first_of_month(to_invoice, back - 1)
        received = min(issued + timedelta(days=10), today)
        found.append(
            DemoInvoice(
                number=next_number("F", issued),
                month=f"{month:%Y-%m}",
                issued=issued,
                days=days,
                paid=paid,
                method=method,
                receipt="",
                received=received,
            )
        )
    # Receipts are numbered in the order they were received.
    return [
        DemoInvoice(**{**vars(i), "receipt": next_number("R", i.received)})
        for i in sorted(found, key=lambda i: i.received)
    ]


def counters(invoices: list[DemoInvoice]) -> dict[tuple[str, int], int]:
    """The last value per (prefix, year) the demo numbers used."""
    last: dict[tuple[str, int], int] = {}
    for invoice in invoices:
        for number in (invoice.number, invoice.receipt):
            key = (number[0], 2000 + int(number[1:3]))
            last[key] = max(last.get(key, 0), int(number[-5:]))
    return last


def weekdays(month: str, count: int) -> list[date]:
    """The first `count` weekdays of `month` (ALSH days)."""
    year, mon = (int(x) for x in month.split("-"))
    day, found = date(year, mon, 1), list[date]()
    while len(found) < count:
        if day.weekday() < 5:
            found.append(day)
        day += timedelta(days=1)
    return found


def _tariffs() -> list[Tariff]:
    now = utcnow()
    start = date(2020, 1, 1)

    def brackets(*prices: tuple[int, int | None, int]) -> list[TariffBracket]:
        return [
            TariffBracket(id=str(uuid.uuid4()), qf_min=a, qf_max=b, price_cents=c)
            for a, b, c in prices
        ]

    def tariff(activity_id: str, name: str, unit: str, resident: bool, **kw: object) -> Tariff:
        return Tariff(
            id=str(uuid.uuid4()),
            activity_id=activity_id,
            activity_name=name,
            unit=unit,
            resident=resident,
            valid_from=start,
            created_at=now,
            **kw,
        )

    alsh = (DEMO_ACTIVITY_ALSH_ID, DEMO_ACTIVITY_ALSH)
    peri = (DEMO_ACTIVITY_PERISCOLAIRE_ID, DEMO_ACTIVITY_PERISCOLAIRE)
    cantine = (DEMO_ACTIVITY_CANTINE_ID, DEMO_ACTIVITY_CANTINE)
    # The family TEST's QF (850) is in the first bracket: its days cost the DAY_PRICE of its
    # seeded invoices, and the month its agent invoices costs the same.
    day = ((0, 900, DAY_PRICE), (901, 1200, 1100), (1201, None, 1500))
    half = ((0, 900, 400), (901, 1200, 600), (1201, None, 800))
    found = []
    for unit, prices in (("journee", day), ("matin", half), ("apres_midi", half)):
        found.append(tariff(*alsh, unit, True, mode="brackets", brackets=brackets(*prices)))
        found.append(
            tariff(
                *alsh,
                unit,
                False,
                mode="brackets",
                brackets=brackets((0, None, prices[-1][2] + 300)),
            )
        )
    for unit in ("garderie_matin", "garderie_soir"):
        found.append(
            tariff(
                *peri,
                unit,
                True,
                mode="rate",
                rate_cents_per_qf=Decimal("0.2"),
                floor_cents=80,
                ceiling_cents=250,
            )
        )
        found.append(tariff(*peri, unit, False, mode="brackets", brackets=brackets((0, None, 300))))
    for activity in (alsh, cantine):
        found.append(
            tariff(
                *activity,
                "repas",
                True,
                mode="rate",
                rate_cents_per_qf=Decimal("0.4"),
                floor_cents=150,
                ceiling_cents=450,
            )
        )
        found.append(
            tariff(*activity, "repas", False, mode="brackets", brackets=brackets((0, None, 550)))
        )
    return found


def _invoice(demo: DemoInvoice, run_id: str) -> Invoice:
    now = utcnow()
    amount, paid = demo.days * DAY_PRICE, demo.paid
    number, month, issued = demo.number, demo.month, demo.issued
    return Invoice(
        id=str(uuid.uuid4()),
        family_id=DEMO_FAMILY_ID,
        number=number,
        issued_on=issued,
        due_on=issued + timedelta(days=30),
        amount_cents=amount,
        balance_cents=amount - paid,
        kind="invoice",
        state="paid" if paid == amount else "partially_paid",
        month=month,
        run_id=run_id,
        family_name=DEMO_FAMILY_NAME,
        family_address="1 place de la Mairie, 64240 Hasparren",
        family_email=DEMO_PARENT_EMAIL,
        quotient=850,
        resident=True,
        created_at=now,
        updated_at=now,
        lines=[
            InvoiceLine(
                id=str(uuid.uuid4()),
                person_id=DEMO_CHILD_ID,
                person_name=CHILD,
                activity_id=DEMO_ACTIVITY_ALSH_ID,
                activity_name=DEMO_ACTIVITY_ALSH,
                unit="journee",
                day=day,
                attendance="present",
                unit_price_cents=DAY_PRICE,
                amount_cents=DAY_PRICE,
            )
            for day in weekdays(month, demo.days)
        ],
    )


async def seed_demo(database: Database, *, today: date | None = None) -> list[str]:
    """Create what is missing of the demo's billing; running it again changes nothing."""
    invoices = demo_invoices(today or paris_today())
    async with database.transaction() as session:
        if await session.scalar(select(Tariff.id).limit(1)) is None:
            session.add_all(_tariffs())
            session.add(
                ActivityRule(activity_id=DEMO_ACTIVITY_CANTINE_ID, bill_unjustified_absences=False)
            )
        seeded = await session.scalar(
            select(Invoice.id).where(Invoice.family_id == DEMO_FAMILY_ID).limit(1)
        )
        if seeded is None:
            await _add_invoices(session, invoices)
            for (prefix, year), last in counters(invoices).items():
                counter = await session.get(NumberCounter, (prefix, year))
                if counter is None:
                    session.add(NumberCounter(prefix=prefix, year=year, last_value=last))
                elif counter.last_value < last:
                    counter.last_value = last
            to_pay = invoices[-1].number
        else:
            # Seeded on an earlier day: the summary names the invoice that is there.
            to_pay = (
                await session.scalar(
                    select(Invoice.number)
                    .where(Invoice.family_id == DEMO_FAMILY_ID, Invoice.state == "partially_paid")
                    .order_by(Invoice.issued_on.desc())
                    .limit(1)
                )
                or invoices[-1].number
            )
    return [
        f"Factures de la famille TEST : {to_pay} ({euros(3500)}, solde {euros(1500)}) et 2 soldées"
    ]


async def _add_invoices(session: AsyncSession, invoices: list[DemoInvoice]) -> None:
    for demo in invoices:
        published = datetime.combine(demo.issued, time(6, 0), PARIS).astimezone(UTC)
        run = InvoicingRun(
            id=str(uuid.uuid4()),
            month=demo.month,
            state="published",
            created_at=published,
            created_by="demo",
            published_at=published,
            invoice_count=1,
            total_cents=demo.days * DAY_PRICE,
            warnings=[],
        )
        session.add(run)
        if await session.get(InvoicedMonth, demo.month) is None:
            session.add(InvoicedMonth(month=demo.month, run_id=run.id, published_at=published))
        invoice = _invoice(demo, run.id)
        session.add(invoice)
        session.add(
            Payment(
                id=str(uuid.uuid4()),
                family_id=DEMO_FAMILY_ID,
                amount_cents=demo.paid,
                method=demo.method,
                reference=None,
                received_on=demo.received,
                receipt_number=demo.receipt,
                recorded_by="demo",
                created_at=utcnow(),
                allocations=[
                    PaymentAllocation(
                        id=str(uuid.uuid4()), invoice_id=invoice.id, amount_cents=demo.paid
                    )
                ],
            )
        )
