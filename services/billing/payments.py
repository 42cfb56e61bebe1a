"""Payments: online through PayFiP (settled only on the detail this server asks), and those
the finance department records; allocations to invoices; receipts.

Convergence (promise 34): a notification, the browser's return and the reconciliation job
all call `settle(idop)`. It asks PayFiP for the detail outside any transaction, then locks
the attempt row: the first caller to find it pending settles it, every other one finds it
settled and does nothing. `payments.payfip_idop` is unique as a last guard: ten concurrent
notifications give one payment and one `payment.received` event.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import structlog
from aiohttp import ClientSession
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.kit.database import Database
from services.kit.outbox import record_event, utcnow

from . import events, numbering
from .clock import today
from .config import BillingSettings
from .errors import (
    AllocationRefused,
    InvoiceNotFound,
    InvoiceStateConflict,
    PayfipUnavailable,
    PaymentCompleted,
    PaymentInProgress,
    PaymentRefused,
    UnknownOperation,
)
from .invoicing import SOURCE
from .models import Invoice, OutboxMessage, Payment, PaymentAllocation, PaymentAttempt
from .money import euros
from .payfip import PAID, PayfipClient, PayfipFault, PaymentRequest, summarize
from .payment_methods import PAYFIP, method_label, method_label_en
from .schemas import TO_PAY_STATES, PaymentCreate

log = structlog.get_logger(__name__)
ClientFor = Callable[[PaymentAttempt], PayfipClient]
ONLINE_STATES = ("issued", "partially_paid")
# A payment PayFiP's notification confirms names no actor: no account of ours acted (the
# attempt keeps no account) and PayFiP is not the structure's software. The family's history
# shows no « Par » for it, rather than a guess.
PAYFIP_ACTOR: dict[str, str] = {}


def apply_allocation(invoice: Invoice, amount: int) -> None:
    """Lower the invoice's balance and move its state along."""
    invoice.balance_cents -= amount
    if invoice.balance_cents == 0:
        invoice.state = "paid"
    elif invoice.state == "issued":
        invoice.state = "partially_paid"
    invoice.updated_at = utcnow()


def received_event(session: AsyncSession, payment: Payment, actor: dict[str, str]) -> None:
    """Record `payment.received` (→ the receipt e-mail) in the caller's transaction; `actor`,
    who recorded it (`Identity.acted`), none for PayFiP's notification (`PAYFIP_ACTOR`)."""
    record_event(
        session,
        OutboxMessage,
        source=SOURCE,
        event_type=events.PAYMENT_RECEIVED,
        family_id=payment.family_id,
        data={
            "payment_id": payment.id,
            "receipt_number": payment.receipt_number,
            "amount_cents": payment.amount_cents,
            "method": payment.method,
            # Named here, in both languages: the receipt e-mail says how it was paid.
            "method_label": method_label(payment.method),
            "method_label_en": method_label_en(payment.method),
            "invoices": [a.invoice_id for a in payment.allocations],
            **actor,
        },
    )


async def _new_payment(
    session: AsyncSession,
    settings: BillingSettings,
    *,
    family_id: str,
    amount: int,
    method: str,
    reference: str | None,
    received_on: date,
    actor: str,
    idop: str | None = None,
) -> Payment:
    payment = Payment(
        id=str(uuid.uuid4()),
        family_id=family_id,
        amount_cents=amount,
        method=method,
        reference=reference,
        received_on=received_on,
        receipt_number=await numbering.next_number(
            session, prefix=settings.receipt_prefix, on=received_on
        ),
        payfip_idop=idop,
        recorded_by=actor,
        created_at=utcnow(),
        allocations=[],
    )
    session.add(payment)
    return payment


# --- finance department -------------------------------------------------------------------


async def record_payment(
    database: Database, settings: BillingSettings, *, data: PaymentCreate, actor: dict[str, str]
) -> tuple[Payment, bool]:
    """Record a payment and allocate it: explicitly, or to the oldest invoices first. `actor`:
    who records it (`Identity.acted`).

    Returns the payment and whether it was created (False: the same call seen before).
    """
    async with database.transaction() as session:
        open_invoices = list(
            await session.scalars(
                select(Invoice)
                .where(
                    Invoice.family_id == data.family_id,
                    Invoice.kind == "invoice",
                    Invoice.state.in_(TO_PAY_STATES),
                    Invoice.balance_cents > 0,
                )
                .order_by(Invoice.issued_on, Invoice.number)
                .with_for_update()
            )
        )
        if data.reference:
            # A retried call of the finance software (same family, mode, reference, amount,
            # date) gets the payment recorded the first time, not a second one. The invoice
            # rows locked above serialise two identical calls racing each other.
            existing = await session.scalar(
                select(Payment).where(
                    Payment.family_id == data.family_id,
                    Payment.method == data.method,
                    Payment.reference == data.reference,
                    Payment.amount_cents == data.amount_cents,
                    Payment.received_on == data.received_on,
                )
            )
            if existing is not None:
                return existing, False
        by_id = {i.id: i for i in open_invoices}
        plan: list[tuple[Invoice, int]] = []
        if data.allocations:
            for wanted in data.allocations:
                invoice = by_id.get(wanted.invoice_id)
                if invoice is None:
                    raise AllocationRefused(
                        f"La facture {wanted.invoice_id} n'est pas une facture à payer de cette "
                        "famille.",
                        errors=[{"field": "allocations", "message": "not payable"}],
                    )
                if wanted.amount_cents > invoice.balance_cents:
                    raise AllocationRefused(
                        f"{euros(wanted.amount_cents)} dépassent le solde de {invoice.number} "
                        f"({euros(invoice.balance_cents)}).",
                        errors=[{"field": "allocations", "message": "above balance"}],
                    )
                plan.append((invoice, wanted.amount_cents))
            if sum(a for _, a in plan) != data.amount_cents:
                raise AllocationRefused(
                    f"Les imputations ({euros(sum(a for _, a in plan))}) ne font pas le "
                    f"montant du règlement ({euros(data.amount_cents)}).",
                    errors=[{"field": "allocations", "message": "sum differs"}],
                )
        else:
            left = data.amount_cents
            for invoice in open_invoices:
                part = min(left, invoice.balance_cents)
                if part:
                    plan.append((invoice, part))
                    left -= part
            if left:
                raise AllocationRefused(
                    f"Le règlement dépasse de {euros(left)} ce que la famille doit : "
                    "rien n'a été enregistré.",
                    errors=[{"field": "amount_cents", "message": "above what is due"}],
                )
        payment = await _new_payment(
            session,
            settings,
            family_id=data.family_id,
            amount=data.amount_cents,
            method=data.method,
            reference=data.reference,
            received_on=data.received_on,
            actor=actor["by"],
        )
        for invoice, amount in plan:
            payment.allocations.append(
                PaymentAllocation(id=str(uuid.uuid4()), invoice_id=invoice.id, amount_cents=amount)
            )
            apply_allocation(invoice, amount)
        received_event(session, payment, actor)
    return payment, True


# --- PayFiP -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Started:
    """An attempt and where to send the browser."""

    attempt: PaymentAttempt
    redirect_url: str


# A click this soon after the previous one is a double click: the attempt it started is
# handed back rather than replaced (replacing it would give two attempts for one click).
JUST_STARTED = timedelta(seconds=20)
PAYFIP_SILENT = (
    "Un paiement en ligne de cette facture est en cours et PayFiP ne répond pas pour que "
    "nous le vérifiions. Réessayez dans quelques minutes."
)
BEING_CREATED = (
    "Un paiement en ligne de cette facture vient de commencer. Réessayez dans quelques minutes."
)
EARLIER_PAID = (
    "Le paiement en ligne commencé plus tôt pour cette facture a abouti : elle est réglée. "
    "Rien de plus n'a été débité."
)
SUPERSEDED = "remplacé par un nouveau paiement : aucun résultat chez PayFiP"


def _just_started(attempt: PaymentAttempt) -> bool:
    return utcnow() - attempt.created_at < JUST_STARTED


async def _ask_about_pending(
    database: Database,
    client_for: ClientFor,
    settings: BillingSettings,
    attempts: list[PaymentAttempt],
) -> tuple[list[str], PaymentAttempt | None]:
    """Ask PayFiP about the invoice's pending attempts before another one starts.

    Returns the attempts PayFiP has no result for (to replace), and a double click's attempt
    to hand back. Raises when one was paid (never pay twice) or PayFiP cannot be asked.
    """
    unfinished: list[str] = []
    for attempt in attempts:
        if attempt.idop is None:
            # Still being created by another request, or its creation died with its process.
            if not _just_started(attempt):
                unfinished.append(attempt.id)
            continue
        try:
            result = await settle(database, client_for(attempt), settings, idop=attempt.idop)
        except PayfipUnavailable:
            raise PaymentInProgress(PAYFIP_SILENT, headers={"Retry-After": "120"}) from None
        if result.attempt.state == "paid":
            raise PaymentCompleted(EARLIER_PAID, attempt_id=attempt.id)
        if result.outcome == "pending":
            if _just_started(attempt):
                return unfinished, attempt
            unfinished.append(attempt.id)
    return unfinished, None


async def start(
    database: Database,
    client: PayfipClient,
    settings: BillingSettings,
    *,
    client_for: ClientFor,
    invoice_id: str,
    family_id: str,
    email: str,
    notify_url: str,
    return_url: str,
) -> Started:
    """Create a PayFiP payment of the invoice's balance; refused when nothing is payable.

    A pending attempt of the invoice is first asked about at PayFiP (`client_for`, as the
    reconciliation does): paid → settled, and `PaymentCompleted`; no result (the parent left
    PayFiP's page) → replaced by the new attempt; PayFiP silent → `PaymentInProgress`.
    """
    async with database.sessions() as session:
        invoice = await session.get(Invoice, invoice_id)
        if invoice is None or invoice.family_id != family_id or invoice.state == "draft":
            raise InvoiceNotFound("Cette facture n'existe pas.")
        pending = list(
            await session.scalars(
                select(PaymentAttempt).where(
                    PaymentAttempt.invoice_id == invoice_id, PaymentAttempt.state == "pending"
                )
            )
        )
    unfinished, double_click = await _ask_about_pending(database, client_for, settings, pending)
    if double_click is not None and double_click.idop is not None:
        return Started(double_click, client.redirect_url(double_click.idop))
    now = utcnow()
    async with database.transaction() as session:
        # The invoice's row lock queues two clicks made at once: the second finds the
        # attempt the first started, and never starts a third.
        invoice = await session.get(Invoice, invoice_id, with_for_update=True)
        assert invoice is not None
        if (
            invoice.kind != "invoice"
            or invoice.state not in ONLINE_STATES
            or invoice.balance_cents <= 0
        ):
            raise InvoiceStateConflict(
                f"La facture {invoice.number} n'est pas payable en ligne "
                f"(état : {invoice.state}, solde : {euros(invoice.balance_cents)})."
            )
        others = list(
            await session.scalars(
                select(PaymentAttempt)
                .where(
                    PaymentAttempt.invoice_id == invoice_id,
                    PaymentAttempt.state == "pending",
                    PaymentAttempt.expires_at > now,
                )
                .with_for_update()
            )
        )
        for other in others:
            if other.id in unfinished:
                # Still open for a late payment: `settle` accepts one until its expiry.
                other.state = "abandoned"
                other.reason = SUPERSEDED
                other.settled_at = now
            elif other.idop is not None:
                return Started(other, client.redirect_url(other.idop))
            else:
                raise PaymentInProgress(BEING_CREATED, headers={"Retry-After": "30"})
        assert invoice.number is not None and invoice.issued_on is not None
        attempt = PaymentAttempt(
            id=str(uuid.uuid4()),
            invoice_id=invoice.id,
            family_id=family_id,
            refdet=invoice.number,
            exer=f"{invoice.issued_on.year:04d}",
            numcli=settings.payfip_numcli,
            amount_cents=invoice.balance_cents,
            state="pending",
            created_at=now,
            expires_at=now + timedelta(minutes=settings.payfip_attempt_ttl_minutes),
            # Where this attempt's detail is asked (the simulator's address varies in tests).
            detail={"ws": client.ws_url},
        )
        session.add(attempt)
    request = PaymentRequest(
        numcli=attempt.numcli,
        exer=attempt.exer,
        refdet=attempt.refdet,
        montant=attempt.amount_cents,
        mel=email,
        objet=f"Facture {attempt.refdet}",
        saisie=settings.payfip_saisie,
        urlnotif=notify_url,
        urlredirect=return_url,
    )
    try:
        idop = await client.create(request)
    except PayfipFault as fault:
        await _close(database, attempt.id, "rejected", f"PayFiP a refusé la création : {fault}")
        raise PaymentRefused(
            f"PayFiP a refusé le paiement : {fault.label} ({fault.code})."
        ) from None
    except Exception:
        await _close(database, attempt.id, "expired", "PayFiP injoignable à la création")
        raise
    async with database.transaction() as session:
        stored = await session.get(PaymentAttempt, attempt.id)
        assert stored is not None
        stored.idop = idop
        attempt = stored
    return Started(attempt, client.redirect_url(idop))


async def _close(database: Database, attempt_id: str, state: str, reason: str) -> None:
    async with database.transaction() as session:
        attempt = await session.get(PaymentAttempt, attempt_id, with_for_update=True)
        if attempt is not None and attempt.state == "pending":
            attempt.state = state
            attempt.reason = reason
            attempt.settled_at = utcnow()


def check_detail(attempt: PaymentAttempt, detail: dict[str, str]) -> str | None:
    """Why this detail cannot settle this attempt, or None when it matches."""
    montant = detail.get("montant", "")
    if not montant.isdigit():
        return f"montant illisible dans le détail PayFiP : {montant[:20]!r}"
    expected = {
        "idOp": attempt.idop or "",
        "numcli": attempt.numcli,
        "refdet": attempt.refdet,
        "exer": attempt.exer,
    }
    for name, value in expected.items():
        if detail.get(name) != value:
            return f"{name} du détail PayFiP ({detail.get(name)!r}) ≠ attendu ({value!r})"
    if int(montant) != attempt.amount_cents:
        return f"montant du détail PayFiP ({montant} centimes) ≠ attendu ({attempt.amount_cents})"
    return None


@dataclass(frozen=True)
class Settlement:
    """What `settle` did."""

    attempt: PaymentAttempt
    # paid | refused | abandoned | rejected | pending | expired | no_result | already_settled
    outcome: str


def awaits_result(attempt: PaymentAttempt) -> bool:
    """PayFiP has not told this attempt's outcome yet.

    Pending ones, and those closed here without PayFiP's word (replaced by a new attempt,
    expired): the parent may still pay on a PayFiP page left open, and that money must be
    recorded, not ignored.
    """
    if attempt.state == "pending":
        return True
    return attempt.state in ("abandoned", "expired") and "resultrans" not in (attempt.detail or {})


async def settle(
    database: Database, client: PayfipClient, settings: BillingSettings, *, idop: str
) -> Settlement:
    """Settle an attempt from the detail this server asks PayFiP for; idempotent."""
    async with database.sessions() as session:
        attempt = await session.scalar(select(PaymentAttempt).where(PaymentAttempt.idop == idop))
    if attempt is None:
        raise UnknownOperation(
            "Aucun paiement en ligne ne porte cet identifiant d'opération : notification ignorée."
        )
    if not awaits_result(attempt):
        return Settlement(attempt, "already_settled")
    try:
        detail = await client.detail(idop)
    except PayfipFault:
        # Not finished at PayFiP (or unknown there): stays pending until it expires.
        if attempt.state != "pending":
            return Settlement(attempt, "no_result")
        return await _expire_if_due(database, attempt)
    return await _apply_detail(database, settings, attempt.id, summarize(detail))


def _expired(attempt: PaymentAttempt) -> bool:
    return attempt.expires_at <= utcnow()


async def _expire_if_due(database: Database, attempt: PaymentAttempt) -> Settlement:
    if not _expired(attempt):
        return Settlement(attempt, "pending")
    await _close(database, attempt.id, "expired", "aucun résultat PayFiP avant l'expiration")
    async with database.sessions() as session:
        fresh = await session.get(PaymentAttempt, attempt.id)
    assert fresh is not None
    return Settlement(fresh, "expired" if fresh.state == "expired" else "already_settled")


async def _apply_detail(
    database: Database, settings: BillingSettings, attempt_id: str, detail: dict[str, str]
) -> Settlement:
    async with database.transaction() as session:
        attempt = await session.get(PaymentAttempt, attempt_id, with_for_update=True)
        assert attempt is not None
        if not awaits_result(attempt):
            return Settlement(attempt, "already_settled")
        closed_before = attempt.state != "pending"
        attempt.detail = detail
        attempt.settled_at = utcnow()
        problem = check_detail(attempt, detail)
        if problem is not None:
            attempt.state = "rejected"
            attempt.reason = problem
            log.warning("payfip_detail_mismatch", attempt_id=attempt.id, reason=problem)
            return Settlement(attempt, "rejected")
        result = detail.get("resultrans", "")
        if result not in PAID:
            attempt.state = "refused" if result == "R" else "abandoned"
            attempt.reason = f"resultrans={result}"
            return Settlement(attempt, attempt.state)
        invoice = await session.get(Invoice, attempt.invoice_id, with_for_update=True)
        assert invoice is not None
        payment = await _new_payment(
            session,
            settings,
            family_id=attempt.family_id,
            amount=attempt.amount_cents,
            method=PAYFIP,
            reference=detail.get("numauto") or None,
            received_on=_transaction_date(detail),
            actor="payfip",
            idop=attempt.idop,
        )
        part = (
            min(invoice.balance_cents, attempt.amount_cents)
            if invoice.state in TO_PAY_STATES
            else 0
        )
        if part:
            payment.allocations.append(
                PaymentAllocation(id=str(uuid.uuid4()), invoice_id=invoice.id, amount_cents=part)
            )
            apply_allocation(invoice, part)
        if part < attempt.amount_cents:
            # Paid at PayFiP but the invoice owed less meanwhile: the money is recorded,
            # unallocated, and shows on the family's statement for finance to refund.
            attempt.reason = f"{attempt.amount_cents - part} centimes non imputés"
            log.warning(
                "payfip_overpayment", attempt_id=attempt.id, unallocated=attempt.amount_cents - part
            )
        if closed_before:
            log.warning("payfip_paid_after_close", attempt_id=attempt.id, was=attempt.state)
        attempt.state = "paid"
        received_event(session, payment, PAYFIP_ACTOR)
        return Settlement(attempt, "paid")


def _transaction_date(detail: dict[str, str]) -> date:
    raw = detail.get("dattrans", "")
    try:
        return datetime.strptime(raw, "%d%m%Y").date()
    except ValueError:
        return today()


async def reconcile(
    database: Database, client_for: ClientFor, settings: BillingSettings
) -> dict[str, int]:
    """Ask PayFiP about every pending attempt (lost notifications); expire the stale ones."""
    async with database.sessions() as session:
        pending = list(
            await session.scalars(
                select(PaymentAttempt).where(
                    or_(
                        PaymentAttempt.state == "pending",
                        # Replaced by a new attempt: its PayFiP page may still be paid.
                        and_(
                            PaymentAttempt.state == "abandoned",
                            PaymentAttempt.reason == SUPERSEDED,
                            PaymentAttempt.expires_at > utcnow(),
                        ),
                    )
                )
            )
        )
    outcomes: dict[str, int] = {}
    for attempt in pending:
        if attempt.idop is None:
            if _expired(attempt):
                await _close(database, attempt.id, "expired", "jamais créé chez PayFiP")
                outcomes["expired"] = outcomes.get("expired", 0) + 1
            continue
        try:
            result = await settle(database, client_for(attempt), settings, idop=attempt.idop)
        except Exception as exc:
            log.warning("reconcile_failed", attempt_id=attempt.id, error=type(exc).__name__)
            outcomes["failed"] = outcomes.get("failed", 0) + 1
            continue
        outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
    return outcomes


def attempt_clients(http: ClientSession, settings: BillingSettings) -> ClientFor:
    """For settling an existing attempt: its detail is asked where it was created."""

    def make(attempt: PaymentAttempt) -> PayfipClient:
        ws = (attempt.detail or {}).get("ws")
        if settings.payfip_mode == "simulator" and isinstance(ws, str):
            return PayfipClient(http, ws, "")
        return PayfipClient(http, settings.payfip_ws_url, settings.payfip_page_url)

    return make


async def get_attempt(
    session: AsyncSession, *, attempt_id: str, family_id: str | None
) -> PaymentAttempt:
    """An attempt of this family (any for staff), or 404."""
    attempt = await session.get(PaymentAttempt, attempt_id)
    if attempt is None or (family_id is not None and attempt.family_id != family_id):
        raise InvoiceNotFound("Ce paiement n'existe pas.")
    return attempt
