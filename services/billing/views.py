"""HTTP handlers: parse, check the caller, call the service, serialise."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import date
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select

from services.kit.bodies import json_response, read_json, read_query
from services.kit.identity import caller, require_family, require_staff
from services.kit.keys import DATABASE, HTTP_CLIENT, SETTINGS
from services.kit.openapi import operation
from services.kit.problems import BadRequest, NotFound, ValidationFailed

from . import exports, invoicing, payments, service, tariffs
from .access import (
    family_payer,
    family_reader,
    path_id,
    staff_or_reader,
    staff_or_writer,
)
from .clock import today
from .config import BillingSettings
from .errors import InvoiceNotFound, PaymentNotFound, RunNotFound, UnknownOperation
from .models import Invoice, InvoicingRun, Payment, PaymentAttempt
from .paging import Position
from .payfip import PayfipClient, simulator_client
from .pdf import render_receipt
from .pdfs import ensure_pdf, header_of
from .schemas import (
    AttemptRead,
    CreditRequest,
    CreditResult,
    InvoiceDetail,
    InvoiceList,
    InvoiceRead,
    Month,
    PayfipStart,
    PaymentCreate,
    PaymentRead,
    PriceQuery,
    PriceRead,
    RuleUpdate,
    RunCreate,
    RunDetail,
    RunList,
    RunRead,
    StaffInvoiceList,
    Statement,
    TariffCreate,
    TariffList,
    TariffRead,
)
from .storage import STORAGE
from .upstream import Upstream

routes = web.RouteTableDef()
SIMULATOR_PREFIX = "/payfip-simulator"
IDOP_MAX = 64


def settings_of(request: web.Request) -> BillingSettings:
    """This service's settings."""
    settings = request.app[SETTINGS]
    assert isinstance(settings, BillingSettings)
    return settings


def invoice_read(invoice: Invoice) -> InvoiceRead:
    """The API view of an invoice."""
    read = InvoiceRead.model_validate(invoice)
    read.has_pdf = invoice.number is not None
    return read


def invoice_detail(invoice: Invoice) -> InvoiceDetail:
    """The API view of an invoice with its lines."""
    detail = InvoiceDetail.model_validate(invoice)
    detail.has_pdf = invoice.number is not None
    return detail


def payfip_client(request: web.Request) -> PayfipClient:
    """The Treasury's PayFiP, or the simulator mounted in this service."""
    settings = settings_of(request)
    http = request.app[HTTP_CLIENT]
    if settings.payfip_mode == "simulator":
        return simulator_client(http, str(request.url.origin()) + SIMULATOR_PREFIX)
    return PayfipClient(http, settings.payfip_ws_url, settings.payfip_page_url)


def client_for_attempt(app: web.Application) -> payments.ClientFor:
    """For reconciliation: each attempt's detail is asked where it was created."""
    settings = app[SETTINGS]
    assert isinstance(settings, BillingSettings)
    return payments.attempt_clients(app[HTTP_CLIENT], settings)


def upstream_of(request: web.Request) -> Upstream:
    """The gateway, called with the caller's own token."""
    return Upstream(
        request.app[HTTP_CLIENT], settings_of(request), request.headers.get("Authorization", "")
    )


def pdf_response(data: bytes, filename: str) -> web.Response:
    """A PDF as an attachment the browser never sniffs into something else."""
    return web.Response(
        body=data,
        content_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
            "Content-Security-Policy": "sandbox; default-src 'none'",
        },
    )


# --- families ----------------------------------------------------------------------------


class InvoiceFilter(BaseModel):
    """The filters of "Mes factures"."""

    state: str = Field("to_pay", pattern=r"^(to_pay|settled|all)$")
    year: int | None = Field(None, ge=2000, le=2100)
    number: str | None = Field(None, max_length=20, pattern=r"^[A-Za-z0-9]*$")


@routes.get("/families/{family_id}/invoices")
@operation(
    "A family's invoices: to pay (default), `settled`, or `all`; with its financial situation",
    tags=("invoices",),
    response=InvoiceList,
    errors=(404, 422),
    query={"state": "string", "year": "integer", "number": "string"},
)
async def list_invoices(request: web.Request) -> web.Response:
    """GET /families/{family_id}/invoices."""
    family_id = path_id(request, "family_id")
    family_reader(request, family_id)
    query = read_query(request, InvoiceFilter)
    async with request.app[DATABASE].sessions() as session:
        found = await service.list_invoices(
            session, family_id=family_id, view=query.state, year=query.year, number=query.number
        )
        count, balance = await service.situation(session, family_id=family_id)
    return json_response(
        InvoiceList(
            items=[invoice_read(i) for i in found],
            to_pay_count=count,
            balance_due_cents=balance,
            as_of=today(),
        )
    )


@routes.get("/families/{family_id}/invoices/{invoice_id}")
@operation(
    "One invoice of the family, with its lines",
    tags=("invoices",),
    response=InvoiceDetail,
    errors=(404,),
)
async def read_invoice(request: web.Request) -> web.Response:
    """GET /families/{family_id}/invoices/{invoice_id}."""
    family_id = path_id(request, "family_id")
    family_reader(request, family_id)
    invoice_id = path_id(request, "invoice_id")
    async with request.app[DATABASE].sessions() as session:
        invoice = await service.get_invoice(session, invoice_id=invoice_id, family_id=family_id)
    return json_response(invoice_detail(invoice))


async def _pdf(request: web.Request, invoice_id: str, family_id: str | None) -> web.Response:
    database = request.app[DATABASE]
    async with database.sessions() as session:
        invoice = await service.get_invoice(session, invoice_id=invoice_id, family_id=family_id)
    if invoice.number is None:
        raise InvoiceNotFound("Une facture en brouillon n'a pas de PDF.")
    storage = request.app[STORAGE]
    key = await ensure_pdf(database, storage, settings_of(request), invoice.id)
    if key is None:
        raise InvoiceNotFound("Cette facture n'existe pas.")
    prefix = "avoir" if invoice.kind == "credit_note" else "facture"
    return pdf_response(await storage.get(key), f"{prefix}-{invoice.number}.pdf")


@routes.get("/families/{family_id}/invoices/{invoice_id}/pdf")
@operation("The invoice's PDF (attachment)", tags=("invoices",), errors=(404, 503))
async def invoice_pdf(request: web.Request) -> web.Response:
    """GET /families/{family_id}/invoices/{invoice_id}/pdf: only the owning family's."""
    family_id = path_id(request, "family_id")
    family_reader(request, family_id)
    return await _pdf(request, path_id(request, "invoice_id"), family_id)


@routes.get("/dashboard/{family_id}")
@operation("The family's dashboard tile: invoices to pay", tags=("dashboard",), errors=(404,))
async def dashboard(request: web.Request) -> web.Response:
    """GET /dashboard/{family_id} → {"factures": {"count": n}}."""
    family_id = path_id(request, "family_id")
    require_family(request, family_id)
    async with request.app[DATABASE].sessions() as session:
        count, _ = await service.situation(session, family_id=family_id)
    return web.json_response({"factures": {"count": count}})


@routes.get("/families/{family_id}/statement")
@operation("The family's account statement", tags=("invoices",), response=Statement, errors=(404,))
async def family_statement(request: web.Request) -> web.Response:
    """GET /families/{family_id}/statement."""
    family_id = path_id(request, "family_id")
    family_reader(request, family_id)
    async with request.app[DATABASE].sessions() as session:
        entries, balance = await service.statement(session, family_id=family_id)
    return json_response(Statement(family_id=family_id, entries=entries, balance_cents=balance))


# --- PayFiP -------------------------------------------------------------------------------


class PayBody(BaseModel):
    """Optional: the e-mail PayFiP sends its ticket to (default: the family's)."""

    email: str | None = Field(None, max_length=254, pattern=r"^[^@\s]{1,64}@[^@\s]{1,189}$")


@routes.post("/families/{family_id}/invoices/{invoice_id}/payfip")
@operation(
    "Start an online payment (PayFiP) of the invoice's balance (a pending one is asked first)",
    tags=("payfip",),
    response=PayfipStart,
    status=201,
    errors=(404, 409, 422, 502),
)
async def start_payment(request: web.Request) -> web.Response:
    """POST /families/{family_id}/invoices/{invoice_id}/payfip → where to send the browser."""
    family_id = path_id(request, "family_id")
    family_payer(request, family_id)
    invoice_id = path_id(request, "invoice_id")
    body = await read_json(request, PayBody) if request.can_read_body else PayBody()
    settings = settings_of(request)
    database = request.app[DATABASE]
    async with database.sessions() as session:
        invoice = await service.get_invoice(session, invoice_id=invoice_id, family_id=family_id)
    email = body.email or invoice.family_email
    if not email:
        raise ValidationFailed(
            "PayFiP demande une adresse électronique : aucune n'est connue pour cette famille.",
            errors=[{"field": "email", "message": "required"}],
        )
    if settings.payfip_mode == "simulator":
        notify = str(request.url.origin()) + "/payfip/notifications"
    else:
        base = settings.notification_base_url or settings.public_base_url + "/api/billing"
        notify = base.rstrip("/") + "/payfip/notifications"
    started = await payments.start(
        database,
        payfip_client(request),
        settings,
        client_for=client_for_attempt(request.app),
        invoice_id=invoice_id,
        family_id=family_id,
        email=email,
        notify_url=notify,
        return_url=settings.public_base_url.rstrip("/") + "/api/billing/payfip/return",
    )
    assert started.attempt.idop is not None
    return json_response(
        PayfipStart(
            attempt_id=started.attempt.id,
            idop=started.attempt.idop,
            redirect_url=started.redirect_url,
        ),
        status=201,
    )


@routes.get("/families/{family_id}/payfip/{attempt_id}")
@operation(
    "An online payment's state (asks PayFiP when still pending)",
    tags=("payfip",),
    response=AttemptRead,
    errors=(404,),
)
async def read_attempt(request: web.Request) -> web.Response:
    """GET /families/{family_id}/payfip/{attempt_id}."""
    family_id = path_id(request, "family_id")
    family_reader(request, family_id)
    attempt_id = path_id(request, "attempt_id")
    database = request.app[DATABASE]
    async with database.sessions() as session:
        attempt = await payments.get_attempt(session, attempt_id=attempt_id, family_id=family_id)
    if attempt.state == "pending" and attempt.idop:
        client = client_for_attempt(request.app)(attempt)
        attempt = (
            await payments.settle(database, client, settings_of(request), idop=attempt.idop)
        ).attempt
    return json_response(AttemptRead.model_validate(attempt))


def _idop(value: object) -> str:
    text = str(value or "").strip()
    if not text or len(text) > IDOP_MAX or not text.isalnum():
        raise BadRequest("Paramètre idop absent ou malformé.")
    return text


@routes.post("/payfip/notifications")
@operation(
    "PayFiP's server-to-server notification (form field `idop`)",
    tags=("payfip",),
    auth=False,
    errors=(400, 404, 502),
)
async def payfip_notification(request: web.Request) -> web.Response:
    """POST /payfip/notifications: the detail is asked by this server before anything."""
    form = await _posted_form(request)
    idop = _idop(form.get("idop") or form.get("idOp") or request.query.get("idop"))
    result = await payments.settle(
        request.app[DATABASE],
        client_for_attempt(request.app)(await _attempt_by_idop(request, idop)),
        settings_of(request),
        idop=idop,
    )
    return web.json_response({"outcome": result.outcome, "state": result.attempt.state})


async def _posted_form(request: web.Request) -> Mapping[str, Any]:
    """The posted form, or 400 when aiohttp cannot read it (not UTF-8, no multipart boundary):
    these addresses are public, a malformed body is the sender's mistake, never a 500."""
    try:
        return await request.post()
    except ValueError:
        raise BadRequest("Le formulaire envoyé est illisible.") from None


async def _attempt_by_idop(request: web.Request, idop: str) -> PaymentAttempt:
    async with request.app[DATABASE].sessions() as session:
        attempt = await session.scalar(select(PaymentAttempt).where(PaymentAttempt.idop == idop))
    if attempt is None:
        raise UnknownOperation(
            "Aucun paiement en ligne ne porte cet identifiant d'opération : notification ignorée."
        )
    return attempt


@routes.route("*", "/payfip/return")
async def payfip_return(request: web.Request) -> web.StreamResponse:
    """GET|POST /payfip/return?idop=…: the browser back from PayFiP; never believed as such.

    The server asks PayFiP for the detail itself, then sends the browser to the page that
    shows the attempt's state (relative: through the gateway, the portal's own origin).
    """
    if request.method not in ("GET", "POST"):
        raise web.HTTPMethodNotAllowed(request.method, ["GET", "POST"])
    try:
        form = await _posted_form(request) if request.method == "POST" else {}
        idop = _idop(form.get("idop") or request.query.get("idop"))
        attempt = await _attempt_by_idop(request, idop)
    except (BadRequest, NotFound):
        raise web.HTTPSeeOther("/factures?paiement=inconnu") from None
    try:
        await payments.settle(
            request.app[DATABASE],
            client_for_attempt(request.app)(attempt),
            settings_of(request),
            idop=idop,
        )
    except Exception:  # noqa: S110 - the page asks again; reconciliation settles it anyway
        pass
    raise web.HTTPSeeOther(f"/factures/paiement?tentative={attempt.id}")


# --- tariffs ------------------------------------------------------------------------------


@routes.get("/tariffs")
@operation("Every tariff", tags=("tariffs",), response=TariffList, query={"activity_id": "string"})
async def list_tariffs(request: web.Request) -> web.Response:
    """GET /tariffs."""
    caller(request)
    async with request.app[DATABASE].sessions() as session:
        found = await tariffs.list_tariffs(session, activity_id=request.query.get("activity_id"))
    return json_response(TariffList(items=[TariffRead.model_validate(t) for t in found]))


@routes.post("/tariffs")
@operation(
    "Add a dated tariff (brackets or rate)",
    tags=("tariffs",),
    request=TariffCreate,
    response=TariffRead,
    status=201,
    errors=(409,),
)
async def create_tariff(request: web.Request) -> web.Response:
    """POST /tariffs: overlapping brackets are refused (422 overlapping-brackets)."""
    staff_or_writer(request)
    data = await read_json(request, TariffCreate)
    async with request.app[DATABASE].transaction() as session:
        tariff = await tariffs.create_tariff(session, data=data)
        read = TariffRead.model_validate(tariff)
    return json_response(read, status=201)


@routes.get("/prices")
@operation(
    "The price of one unit on a day for a quotient (what families see in their planning)",
    tags=("tariffs",),
    response=PriceRead,
    query={
        "activity_id": "string",
        "unit": "string",
        "day": "string",
        "quotient": "integer",
        "resident": "boolean",
    },
)
async def price(request: web.Request) -> web.Response:
    """GET /prices."""
    caller(request)
    query = read_query(request, PriceQuery)
    async with request.app[DATABASE].sessions() as session:
        book = await tariffs.load_book(session)
    tariff = book.find(query.activity_id, query.unit, query.resident, query.day)
    if tariff is None:
        return json_response(PriceRead(price_cents=None, tariff_id=None))
    return json_response(
        PriceRead(price_cents=tariffs.price_cents(tariff, query.quotient), tariff_id=tariff.id)
    )


@routes.put("/activity-rules/{activity_id}")
@operation("Whether an activity bills unjustified absences", tags=("tariffs",), request=RuleUpdate)
async def set_rule(request: web.Request) -> web.Response:
    """PUT /activity-rules/{activity_id}."""
    staff_or_writer(request)
    activity_id = path_id(request, "activity_id")
    data = await read_json(request, RuleUpdate)
    async with request.app[DATABASE].transaction() as session:
        await tariffs.set_rule(
            session, activity_id=activity_id, bill_unjustified=data.bill_unjustified_absences
        )
    return web.json_response(
        {"activity_id": activity_id, "bill_unjustified_absences": data.bill_unjustified_absences}
    )


# --- runs ---------------------------------------------------------------------------------


async def _run_detail(request: web.Request, run: InvoicingRun) -> RunDetail:
    async with request.app[DATABASE].sessions() as session:
        found = await invoicing.run_invoices(session, run.id)
    detail = RunDetail.model_validate({**RunRead.model_validate(run).model_dump(), "invoices": []})
    detail.invoices = [invoice_detail(i) for i in found]
    return detail


@routes.post("/runs")
@operation(
    "Prepare a month's invoices (preview, drafts); 409 when the month is invoiced",
    tags=("runs",),
    request=RunCreate,
    response=RunDetail,
    status=201,
    errors=(409, 503),
)
async def create_run(request: web.Request) -> web.Response:
    """POST /runs {month}: reads bookings and families through the gateway, as the caller."""
    identity = staff_or_writer(request)
    data = await read_json(request, RunCreate)
    run = await invoicing.preview(
        request.app[DATABASE],
        upstream_of(request),
        settings_of(request),
        month=data.month,
        actor=identity.subject,
    )
    return json_response(await _run_detail(request, run), status=201)


@routes.get("/runs")
@operation("Invoicing runs, newest first", tags=("runs",), response=RunList)
async def list_runs(request: web.Request) -> web.Response:
    """GET /runs."""
    staff_or_reader(request)
    async with request.app[DATABASE].sessions() as session:
        found = await session.scalars(
            select(InvoicingRun).order_by(InvoicingRun.created_at.desc()).limit(100)
        )
        items = [RunRead.model_validate(r) for r in found]
    return json_response(RunList(items=items))


async def _get_run(request: web.Request) -> InvoicingRun:
    run_id = path_id(request, "run_id")
    async with request.app[DATABASE].sessions() as session:
        run = await session.get(InvoicingRun, run_id)
    if run is None:
        raise RunNotFound("Cette facturation n'existe pas.")
    return run


@routes.get("/runs/{run_id}")
@operation(
    "A run with its invoices (drafts while a preview)",
    tags=("runs",),
    response=RunDetail,
    errors=(404,),
)
async def read_run(request: web.Request) -> web.Response:
    """GET /runs/{run_id}."""
    staff_or_reader(request)
    return json_response(await _run_detail(request, await _get_run(request)))


@routes.post("/runs/{run_id}/publish")
@operation(
    "Publish a preview: numbers, PDFs, `invoice.issued` events; 409 when the month's "
    "billable lines changed since the preview",
    tags=("runs",),
    response=RunRead,
    errors=(404, 409, 503),
)
async def publish_run(request: web.Request) -> web.Response:
    """POST /runs/{run_id}/publish."""
    identity = staff_or_writer(request)
    run = await invoicing.publish(
        request.app[DATABASE],
        request.app[STORAGE],
        settings_of(request),
        run_id=path_id(request, "run_id"),
        upstream=upstream_of(request),
        actor=identity.acted,
    )
    return json_response(RunRead.model_validate(run))


@routes.post("/runs/{run_id}/discard")
@operation("Drop a preview", tags=("runs",), response=RunRead, errors=(404, 409))
async def discard_run(request: web.Request) -> web.Response:
    """POST /runs/{run_id}/discard."""
    staff_or_writer(request)
    run = await invoicing.discard(request.app[DATABASE], run_id=path_id(request, "run_id"))
    return json_response(RunRead.model_validate(run))


# --- staff: invoices, credit notes, payments, exports ------------------------------------


# A town of 10,000 families issues as many invoices a month: the list is read in pages.
STAFF_PAGE = 100
MAX_STAFF_PAGE = 500
MAX_OFFSET = 1_000_000


class StaffFilter(BaseModel):
    """Filters and page of the staff invoice list."""

    family_id: str | None = Field(None, max_length=36)
    month: Month | None = None
    state: str = Field("all", pattern=r"^(to_pay|settled|all)$")
    limit: int = Field(STAFF_PAGE, ge=1, le=MAX_STAFF_PAGE)
    cursor: str | None = Field(None, max_length=200)
    # Deprecated: a position by count shifts when an invoice is issued meanwhile.
    offset: int = Field(0, ge=0, le=MAX_OFFSET)

    @field_validator("cursor")
    @classmethod
    def _ours(cls, value: str | None) -> str | None:
        if value is not None:
            Position.decode(value)
        return value


@routes.get("/staff/invoices")
@operation(
    "Issued invoices (filter by family, month, state), newest number first, in pages of "
    "`limit`: follow `next_cursor` with `cursor=` until it is null (every invoice once, even "
    "while invoices are issued); `offset` is deprecated; `total` and the situation count the "
    "whole filter",
    tags=("staff",),
    response=StaffInvoiceList,
    query={
        "family_id": "string",
        "month": "string",
        "state": "string",
        "limit": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_STAFF_PAGE,
            "default": STAFF_PAGE,
        },
        "cursor": {"type": "string", "maxLength": 200},
        "offset": {
            "type": "integer",
            "minimum": 0,
            "maximum": MAX_OFFSET,
            "default": 0,
            "deprecated": True,
        },
    },
)
async def staff_invoices(request: web.Request) -> web.Response:
    """GET /staff/invoices?limit=100, then ?cursor=<next_cursor> until it is null."""
    staff_or_reader(request)
    query = read_query(request, StaffFilter)
    if query.cursor is not None and query.offset:
        raise ValidationFailed(
            "Invalid query parameters.",
            errors=[{"field": "offset", "message": "Give either cursor or offset, not both."}],
        )
    async with request.app[DATABASE].sessions() as session:
        page = await service.staff_invoices(
            session,
            family_id=query.family_id,
            month=query.month,
            state=query.state,
            limit=query.limit,
            offset=query.offset,
            after=None if query.cursor is None else Position.decode(query.cursor),
        )
    return json_response(
        StaffInvoiceList(
            items=[invoice_read(i) for i in page.items],
            total=page.total,
            to_pay_count=page.to_pay_count,
            balance_due_cents=page.balance_due_cents,
            as_of=today(),
            next_cursor=None if page.next is None else page.next.encode(),
        )
    )


@routes.get("/invoices/{invoice_id}")
@operation(
    "Any issued invoice, with its lines", tags=("staff",), response=InvoiceDetail, errors=(404,)
)
async def staff_read_invoice(request: web.Request) -> web.Response:
    """GET /invoices/{invoice_id}."""
    staff_or_reader(request)
    async with request.app[DATABASE].sessions() as session:
        invoice = await service.get_invoice(
            session, invoice_id=path_id(request, "invoice_id"), family_id=None
        )
    return json_response(invoice_detail(invoice))


@routes.get("/invoices/{invoice_id}/pdf")
@operation("Any issued invoice's PDF", tags=("staff",), errors=(404,))
async def staff_invoice_pdf(request: web.Request) -> web.Response:
    """GET /invoices/{invoice_id}/pdf."""
    staff_or_reader(request)
    return await _pdf(request, path_id(request, "invoice_id"), None)


@routes.post("/invoices/{invoice_id}/credit")
@operation(
    "Cancel with a credit note (and reissue)",
    tags=("staff",),
    request=CreditRequest,
    response=CreditResult,
    errors=(404, 409),
)
async def credit_invoice(request: web.Request) -> web.Response:
    """POST /invoices/{invoice_id}/credit."""
    identity = staff_or_writer(request)
    data = await read_json(request, CreditRequest)
    cancelled, note, reissued = await service.credit(
        request.app[DATABASE],
        request.app[STORAGE],
        settings_of(request),
        invoice_id=path_id(request, "invoice_id"),
        reason=data.reason,
        reissue=data.reissue,
        remove_days=data.remove_line_days,
        actor=identity.acted,
    )
    return json_response(
        CreditResult(
            cancelled=invoice_read(cancelled),
            credit_note=invoice_read(note),
            reissued=invoice_read(reissued) if reissued else None,
        )
    )


@routes.post("/invoices/{invoice_id}/transmit")
@operation(
    "Mark an unpaid invoice as handed to the Trésor Public",
    tags=("staff",),
    response=InvoiceRead,
    errors=(404, 409),
)
async def transmit_invoice(request: web.Request) -> web.Response:
    """POST /invoices/{invoice_id}/transmit."""
    staff_or_writer(request)
    invoice = await service.transmit(
        request.app[DATABASE], invoice_id=path_id(request, "invoice_id")
    )
    return json_response(invoice_read(invoice))


@routes.post("/payments")
@operation(
    "Record a payment (finance department, `billing:write`), allocated to invoices; the same "
    "call again (family, method, reference, amount, date) answers 200 with the first payment",
    tags=("payments",),
    request=PaymentCreate,
    response=PaymentRead,
    status=201,
    errors=(422,),
)
async def record_payment(request: web.Request) -> web.Response:
    """POST /payments."""
    identity = staff_or_writer(request)
    data = await read_json(request, PaymentCreate)
    payment, created = await payments.record_payment(
        request.app[DATABASE], settings_of(request), data=data, actor=identity.acted
    )
    return json_response(PaymentRead.model_validate(payment), status=201 if created else 200)


@routes.get("/payments/{payment_id}")
@operation(
    "A payment and its receipt number", tags=("payments",), response=PaymentRead, errors=(404,)
)
async def read_payment(request: web.Request) -> web.Response:
    """GET /payments/{payment_id}: staff, finance, or the paying family."""
    identity = caller(request)
    async with request.app[DATABASE].sessions() as session:
        payment = await session.get(Payment, path_id(request, "payment_id"))
    if payment is None:
        raise PaymentNotFound("Ce règlement n'existe pas.")
    if identity.role == "family":
        require_family(request, payment.family_id)
    else:
        staff_or_reader(request)
    return json_response(PaymentRead.model_validate(payment))


@routes.get("/payments/{payment_id}/receipt")
@operation("The payment's receipt (PDF attachment)", tags=("payments",), errors=(404,))
async def payment_receipt(request: web.Request) -> web.Response:
    """GET /payments/{payment_id}/receipt."""
    identity = caller(request)
    async with request.app[DATABASE].sessions() as session:
        payment = await session.get(Payment, path_id(request, "payment_id"))
        if payment is None:
            raise PaymentNotFound("Ce règlement n'existe pas.")
        if identity.role == "family":
            require_family(request, payment.family_id)
        else:
            staff_or_reader(request)
        numbers = {}
        for allocation in payment.allocations:
            invoice = await session.get(Invoice, allocation.invoice_id)
            numbers[allocation.invoice_id] = invoice.number if invoice else ""
    allocations = [(numbers[a.invoice_id] or "", a.amount_cents) for a in payment.allocations]
    data = await asyncio.to_thread(
        render_receipt,
        payment.receipt_number,
        payment.received_on,
        payment.amount_cents,
        payment.method,
        allocations,
        header_of(settings_of(request)),
    )
    return pdf_response(data, f"recu-{payment.receipt_number}.pdf")


class ExportQuery(BaseModel):
    """Export filters."""

    month: Month | None = None
    start: date | None = None
    end: date | None = None


def _csv(data: bytes, filename: str) -> web.Response:
    return web.Response(
        body=data,
        content_type="text/csv",
        charset="utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


@routes.get("/exports/invoices.csv")
@operation(
    "Invoices and credit notes as CSV (finance software)",
    tags=("exports",),
    query={"month": "string"},
)
async def export_invoices(request: web.Request) -> web.Response:
    """GET /exports/invoices.csv?month=YYYY-MM."""
    staff_or_reader(request)
    query = read_query(request, ExportQuery)
    async with request.app[DATABASE].sessions() as session:
        data = await exports.invoices_csv(session, month=query.month)
    return _csv(data, f"factures-{query.month or 'toutes'}.csv")


@routes.get("/exports/payments.csv")
@operation(
    "Payments and their allocations as CSV",
    tags=("exports",),
    query={"start": "string", "end": "string"},
)
async def export_payments(request: web.Request) -> web.Response:
    """GET /exports/payments.csv?start=&end=."""
    staff_or_reader(request)
    query = read_query(request, ExportQuery)
    async with request.app[DATABASE].sessions() as session:
        data = await exports.payments_csv(session, start=query.start, end=query.end)
    return _csv(data, "reglements.csv")


@routes.post("/payfip/reconcile")
@operation("Ask PayFiP about every pending attempt now (also run by beat)", tags=("payfip",))
async def reconcile_now(request: web.Request) -> web.Response:
    """POST /payfip/reconcile."""
    require_staff(request)
    outcomes = await payments.reconcile(
        request.app[DATABASE], client_for_attempt(request.app), settings_of(request)
    )
    return web.json_response({"outcomes": outcomes})
