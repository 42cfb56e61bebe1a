"""The demo's billing: tariffs of the manual's activities and the family TEST's invoices.

As in the manual: `F200300001 du 01/03/2020 — 35,00 € Montant dû — 15,00 € Solde dû` (to pay,
partly paid), and two settled invoices for the « SOLDÉES » history. Inserted directly, without
events (demo data is a starting point, not something that happened); the counters are set so
that the next numbers follow without a gap. PDFs are rendered on first download.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

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
)
from services.kit.database import Database
from services.kit.outbox import utcnow

from .models import (
    ActivityRule,
    Invoice,
    InvoiceLine,
    NumberCounter,
    Payment,
    PaymentAllocation,
    Tariff,
    TariffBracket,
)
from .money import euros

CHILD = f"{DEMO_CHILD_FIRST_NAME} {DEMO_FAMILY_NAME}"
DAY_PRICE = 700
# (number, month, issued on, days of ALSH, paid cents, method, receipt)
INVOICES = (
    ("F200100001", "2020-01", date(2020, 2, 1), 4, 2800, "cheque", "R200200001"),
    ("F200200001", "2020-02", date(2020, 3, 1), 6, 4200, "payfip", "R200300001"),
    ("F200300001", "2020-03", date(2020, 3, 1), 5, 2000, "tresor_public", "R200300002"),
)


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
    day = ((0, 700, 700), (701, 1200, 1100), (1201, None, 1500))
    half = ((0, 700, 400), (701, 1200, 600), (1201, None, 800))
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


def _invoice(number: str, month: str, issued: date, days: int, paid: int) -> Invoice:
    now = utcnow()
    amount = days * DAY_PRICE
    year, mon = (int(x) for x in month.split("-"))
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
                day=date(year, mon, 3 + i),
                attendance="present",
                unit_price_cents=DAY_PRICE,
                amount_cents=DAY_PRICE,
            )
            for i in range(days)
        ],
    )


async def seed_demo(database: Database) -> list[str]:
    """Create what is missing of the demo's billing; running it again changes nothing."""
    async with database.transaction() as session:
        if await session.scalar(select(Tariff.id).limit(1)) is None:
            session.add_all(_tariffs())
            session.add(
                ActivityRule(activity_id=DEMO_ACTIVITY_CANTINE_ID, bill_unjustified_absences=False)
            )
        existing = set(
            await session.scalars(select(Invoice.number).where(Invoice.family_id == DEMO_FAMILY_ID))
        )
        for number, month, issued, days, paid, method, receipt in INVOICES:
            if number in existing:
                continue
            invoice = _invoice(number, month, issued, days, paid)
            session.add(invoice)
            session.add(
                Payment(
                    id=str(uuid.uuid4()),
                    family_id=DEMO_FAMILY_ID,
                    amount_cents=paid,
                    method=method,
                    reference=None,
                    received_on=issued + timedelta(days=10),
                    receipt_number=receipt,
                    recorded_by="demo",
                    created_at=utcnow(),
                    allocations=[
                        PaymentAllocation(
                            id=str(uuid.uuid4()), invoice_id=invoice.id, amount_cents=paid
                        )
                    ],
                )
            )
        for prefix, year, last in (("F", 2020, 3), ("R", 2020, 3)):
            counter = await session.get(NumberCounter, (prefix, year))
            if counter is None:
                session.add(NumberCounter(prefix=prefix, year=year, last_value=last))
            elif counter.last_value < last:
                counter.last_value = last
    return [
        f"Factures de la famille TEST : F200300001 ({euros(3500)}, solde {euros(1500)}) "
        "et 2 soldées"
    ]
