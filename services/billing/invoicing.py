"""The monthly run: billable lines → one draft invoice per family (preview) → publication.

Publication numbers every draft in one transaction (gapless, see numbering.py), records an
`invoice.issued` event per invoice in the same transaction, then renders the PDFs. A month is
published once: the `invoiced_months` primary key refuses a second publication, even two
racing ones.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import Executor
from datetime import date, timedelta

import structlog
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import lazyload

from services.kit.database import Database
from services.kit.outbox import record_event, utcnow

from . import events, numbering
from .clock import today
from .config import BillingSettings
from .errors import (
    BookingsChangedSincePreview,
    MissingTariff,
    MonthAlreadyInvoiced,
    NothingToInvoice,
    RunNotFound,
    RunNotPreview,
    UpstreamUnavailable,
)
from .models import Invoice, InvoicedMonth, InvoiceLine, InvoicingRun, OutboxMessage
from .pdfs import render_missing_pdfs
from .storage import Storage
from .tariffs import TariffBook, load_book, price_cents
from .upstream import BillableLine, FamilyInfo, Upstream

log = structlog.get_logger(__name__)
SOURCE = "billing"
ALWAYS_BILLED = ("reserved", "present")
INSERT_CHUNK = 5000


def billable(line: BillableLine, book: TariffBook) -> bool:
    """Reserved and present are billed; justified absences never; unjustified per activity."""
    if line.state in ALWAYS_BILLED:
        return True
    if line.state == "absent_unjustified":
        return book.bill_unjustified.get(line.activity_id, True)
    return False


def line_month(line: BillableLine) -> str:
    """The YYYY-MM of a line."""
    return f"{line.date:%Y-%m}"


def build_drafts(
    *,
    run_id: str,
    month: str,
    lines: Iterable[BillableLine],
    families: dict[str, FamilyInfo | None],
    book: TariffBook,
    resident_codes: frozenset[str],
) -> list[Invoice]:
    """The draft invoices of a month: one per family, lines per child, day and unit."""
    now = utcnow()
    by_family: dict[str, list[BillableLine]] = defaultdict(list)
    for line in lines:
        if billable(line, book) and line_month(line) == month:
            by_family[line.family_id].append(line)
    unknown = sorted(f for f in by_family if families.get(f) is None)
    if unknown:
        raise UpstreamUnavailable(
            f"{len(unknown)} famille(s) des lignes facturables sont inconnues du service "
            f"familles : {', '.join(unknown[:5])}. Rien n'a été préparé."
        )
    missing: set[str] = set()
    drafts: list[Invoice] = []
    for family_id, family_lines in by_family.items():
        family = families[family_id]
        assert family is not None
        resident = (family.postal_code or "") in resident_codes
        invoice_lines = []
        for line in sorted(
            family_lines, key=lambda x: (x.person_name, x.date, x.activity_name, x.unit)
        ):
            tariff = book.find(line.activity_id, line.unit, resident, line.date)
            if tariff is None:
                missing.add(
                    f"{line.activity_name} / {line.unit} / "
                    f"{'résident' if resident else 'non résident'} au {line.date:%d/%m/%Y}"
                )
                continue
            price = price_cents(tariff, family.quotient)
            invoice_lines.append(
                InvoiceLine(
                    id=str(uuid.uuid4()),
                    person_id=line.person_id,
                    person_name=line.person_name,
                    activity_id=line.activity_id,
                    activity_name=line.activity_name,
                    unit=line.unit,
                    day=line.date,
                    attendance=line.state,
                    unit_price_cents=price,
                    amount_cents=price,
                    tariff_id=tariff.id,
                )
            )
        total = sum(x.amount_cents for x in invoice_lines)
        drafts.append(
            Invoice(
                id=str(uuid.uuid4()),
                family_id=family_id,
                number=None,
                issued_on=None,
                amount_cents=total,
                balance_cents=total,
                kind="invoice",
                state="draft",
                month=month,
                run_id=run_id,
                family_name=family.name,
                family_address=family.postal_address(),
                family_email=family.email,
                quotient=family.quotient,
                resident=resident,
                created_at=now,
                updated_at=now,
                lines=invoice_lines,
            )
        )
    if missing:
        raise MissingTariff(
            "Aucun tarif pour : " + "; ".join(sorted(missing)[:10]) + ". Rien n'a été préparé.",
            missing=sorted(missing),
        )
    return drafts


async def ensure_not_invoiced(session: AsyncSession, month: str) -> None:
    """409 when the month was published already."""
    if await session.get(InvoicedMonth, month) is not None:
        raise MonthAlreadyInvoiced(
            f"Le mois {month} est déjà facturé : une facture émise ne se refait pas, "
            "elle s'annule par un avoir puis se réémet."
        )


async def current_drafts(
    upstream: Upstream, settings: BillingSettings, book: TariffBook, *, run_id: str, month: str
) -> tuple[list[Invoice], int]:
    """The drafts the month's billable lines give now, and how many lines were not billed."""
    lines = await upstream.billable_lines(month)
    family_ids = sorted({x.family_id for x in lines if billable(x, book)})
    families = await upstream.families(family_ids)
    drafts = build_drafts(
        run_id=run_id,
        month=month,
        lines=lines,
        families=families,
        book=book,
        resident_codes=settings.resident_codes,
    )
    drafts = [d for d in drafts if d.amount_cents > 0]
    return drafts, len(lines) - sum(len(d.lines) for d in drafts)


LineKey = tuple[str, str, str, str, date, str, int]


def _line_key(family_id: str, line: InvoiceLine) -> LineKey:
    return (
        family_id,
        line.person_id,
        line.activity_id,
        line.unit,
        line.day,
        line.attendance,
        line.amount_cents,
    )


def draft_keys(drafts: Iterable[Invoice]) -> list[LineKey]:
    """What drafts bill, line by line (who, what, which day, attendance, price), sorted."""
    return sorted(_line_key(d.family_id, x) for d in drafts for x in d.lines)


async def stored_draft_keys(session: AsyncSession, run_id: str) -> list[LineKey]:
    """The same for a preview's stored drafts."""
    rows = await session.execute(
        select(Invoice.family_id, InvoiceLine)
        .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
        .where(Invoice.run_id == run_id, Invoice.state == "draft")
    )
    return sorted(_line_key(family_id, line) for family_id, line in rows)


async def preview(
    database: Database, upstream: Upstream, settings: BillingSettings, *, month: str, actor: str
) -> InvoicingRun:
    """Prepare a month's drafts (replacing an earlier preview of the same month)."""
    async with database.sessions() as session:
        await ensure_not_invoiced(session, month)
        book = await load_book(session)
    run_id = str(uuid.uuid4())
    drafts, skipped = await current_drafts(upstream, settings, book, run_id=run_id, month=month)
    async with database.transaction() as session:
        await ensure_not_invoiced(session, month)
        await discard_previews(session, month)
        run = InvoicingRun(
            id=run_id,
            month=month,
            state="preview",
            created_at=utcnow(),
            created_by=actor,
            invoice_count=len(drafts),
            total_cents=sum(d.amount_cents for d in drafts),
            warnings=[f"{skipped} ligne(s) non facturée(s) (absences justifiées ou hors règle)."]
            if skipped
            else [],
        )
        session.add(run)
        await session.flush()
        # Core bulk inserts: a month of 10,000 families is ~200,000 lines; ORM units of
        # work would spend minutes tracking objects nobody reads back here.
        if drafts:
            await session.execute(insert(Invoice), [_row(d) for d in drafts])
            rows = [_row(x) | {"invoice_id": d.id} for d in drafts for x in d.lines]
            for start in range(0, len(rows), INSERT_CHUNK):
                await session.execute(insert(InvoiceLine), rows[start : start + INSERT_CHUNK])
    return run


def _row(instance: Invoice | InvoiceLine) -> dict[str, object]:
    """An ORM object's column values, for a Core insert."""
    return {c.key: getattr(instance, c.key) for c in instance.__table__.columns}


async def discard_previews(session: AsyncSession, month: str) -> None:
    """Drop earlier previews of `month` and their drafts."""
    old = list(
        await session.scalars(
            select(InvoicingRun.id).where(
                InvoicingRun.month == month, InvoicingRun.state == "preview"
            )
        )
    )
    if old:
        await session.execute(
            delete(Invoice).where(Invoice.run_id.in_(old), Invoice.state == "draft")
        )
        await session.execute(
            update(InvoicingRun).where(InvoicingRun.id.in_(old)).values(state="discarded")
        )


# Who publishes the automatic monthly run's invoices: no account, the structure's software
# (« un logiciel de la structure » in the family's history), as an automatic validation.
AUTOMATIC_RUN_ACTOR = {"by_role": "service"}


def issued_event(session: AsyncSession, invoice: Invoice, actor: dict[str, str]) -> None:
    """Record `invoice.issued` in the caller's transaction (→ "facture disponible" e-mail);
    `actor`, who published it (`Identity.acted`; `AUTOMATIC_RUN_ACTOR` for the monthly run)."""
    record_event(
        session,
        OutboxMessage,
        source=SOURCE,
        event_type=events.INVOICE_ISSUED,
        family_id=invoice.family_id,
        data={
            "invoice_id": invoice.id,
            "number": invoice.number,
            "month": invoice.month,
            "total_cents": invoice.amount_cents,
            "balance_cents": invoice.balance_cents,
            "due_on": invoice.due_on.isoformat() if invoice.due_on else None,
            **actor,
        },
    )


def mark_issued(invoice: Invoice, settings: BillingSettings, number: str, on: date) -> None:
    """Give a draft its number and due date."""
    invoice.number = number
    invoice.issued_on = on
    invoice.due_on = on + timedelta(days=settings.payment_days)
    invoice.state = "issued" if invoice.kind == "invoice" else "paid"
    invoice.updated_at = utcnow()


async def issue(
    session: AsyncSession, invoice: Invoice, settings: BillingSettings, *, prefix: str | None = None
) -> None:
    """Number one draft and make it due (in the caller's transaction)."""
    on = today()
    prefix = prefix or settings.invoice_prefix
    mark_issued(invoice, settings, await numbering.next_number(session, prefix=prefix, on=on), on)


async def ensure_preview_current(
    database: Database, upstream: Upstream, settings: BillingSettings, *, run_id: str
) -> None:
    """409 when the month's billable lines no longer give the preview's drafts.

    A preview is a snapshot: a day closed since (its reservations cancelled), a reservation
    added or an attendance taken would otherwise be billed as it was. Refusing is simpler
    and safer than preparing again silently: staff see the new drafts before they go out.
    """
    async with database.sessions() as session:
        run = await session.get(InvoicingRun, run_id)
        if run is None:
            raise RunNotFound("Cette facturation n'existe pas.")
        if run.state != "preview":
            raise RunNotPreview(f"Cette facturation est déjà {run.state}.")
        book = await load_book(session)
        stored = await stored_draft_keys(session, run.id)
    drafts, _ = await current_drafts(upstream, settings, book, run_id=run.id, month=run.month)
    if draft_keys(drafts) != stored:
        log.info("run_preview_stale", month=run.month, run_id=run.id)
        raise BookingsChangedSincePreview(
            "Les réservations du mois ont changé depuis l'aperçu : refaites l'aperçu."
        )


async def publish(
    database: Database,
    storage: Storage,
    settings: BillingSettings,
    *,
    run_id: str,
    upstream: Upstream | None = None,
    executor: Executor | None = None,
    actor: dict[str, str],
) -> InvoicingRun:
    """Number and issue a preview's drafts, once; then render their PDFs. `actor`: who
    publishes (`Identity.acted`; `AUTOMATIC_RUN_ACTOR` for the automatic run).

    With `upstream`, the drafts are first checked against the month's billable lines now
    (see ensure_preview_current); the automatic run publishes the preview it just made.
    """
    if upstream is not None:
        await ensure_preview_current(database, upstream, settings, run_id=run_id)
    month = ""
    try:
        async with database.transaction() as session:
            run = await session.get(InvoicingRun, run_id, with_for_update=True)
            if run is None:
                raise RunNotFound("Cette facturation n'existe pas.")
            month = run.month
            if run.state != "preview":
                raise RunNotPreview(f"Cette facturation est déjà {run.state}.")
            drafts_count = await session.scalar(
                select(func.count()).where(Invoice.run_id == run.id, Invoice.state == "draft")
            )
            if not drafts_count:
                # Publishing would mark the month invoiced: bookings entered later for it
                # could never be billed.
                raise NothingToInvoice(
                    "Rien à facturer pour ce mois : l'aperçu ne contient aucune facture."
                )
            await ensure_not_invoiced(session, run.month)
            now = utcnow()
            session.add(InvoicedMonth(month=run.month, run_id=run.id, published_at=now))
            await session.flush()
            # Lines are not loaded: thousands of invoices, one numbering statement, one flush.
            drafts = list(
                await session.scalars(
                    select(Invoice)
                    .options(lazyload(Invoice.lines))
                    .where(Invoice.run_id == run.id, Invoice.state == "draft")
                    .order_by(Invoice.family_name, Invoice.family_id)
                )
            )
            on = today()
            first = await numbering.next_block(
                session, prefix=settings.invoice_prefix, year=on.year, count=len(drafts)
            )
            for offset, invoice in enumerate(drafts):
                mark_issued(
                    invoice,
                    settings,
                    numbering.format_number(settings.invoice_prefix, on, first + offset),
                    on,
                )
                issued_event(session, invoice, actor)
            run.state = "published"
            run.published_at = now
            run.invoice_count = len(drafts)
            run.total_cents = sum(d.amount_cents for d in drafts)
    except IntegrityError:
        # A racing publication of the same month committed first.
        raise MonthAlreadyInvoiced(f"Le mois {month} vient d'être facturé.") from None
    rendered = await render_missing_pdfs(
        database, storage, settings, run_id=run.id, executor=executor
    )
    log.info("run_published", month=run.month, invoices=len(drafts), pdfs=rendered)
    return run


async def discard(database: Database, *, run_id: str) -> InvoicingRun:
    """Drop a preview."""
    async with database.transaction() as session:
        run = await session.get(InvoicingRun, run_id, with_for_update=True)
        if run is None:
            raise RunNotFound("Cette facturation n'existe pas.")
        if run.state != "preview":
            raise RunNotPreview("Seul un aperçu peut être abandonné.")
        await discard_previews(session, run.month)
        await session.refresh(run)
        return run


async def run_invoices(session: AsyncSession, run_id: str) -> list[Invoice]:
    """The invoices of a run."""
    return list(
        await session.scalars(
            select(Invoice).where(Invoice.run_id == run_id).order_by(Invoice.family_name)
        )
    )
