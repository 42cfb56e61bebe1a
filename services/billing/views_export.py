"""RGPD right of access: everything this service holds about one family, as one JSON file.

The family itself or staff; another family's id answers 404 like a missing one. Billing
journals no read access, so this export emits no event: the families service's part of the
same download journals it (`family.exported`). Drafts are left out, as everywhere a family
looks: until issued they are the structure's work in progress, not a statement.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from services.kit.bodies import json_response
from services.kit.identity import require_family
from services.kit.keys import DATABASE
from services.kit.openapi import operation
from services.kit.outbox import utcnow

from .access import path_id
from .models import Invoice, Payment, PaymentAttempt
from .schemas import InvoiceDetail, PaymentRead
from .service import VISIBLE
from .views import invoice_detail

routes = web.RouteTableDef()


class InvoiceExport(InvoiceDetail):
    """An invoice with its lines and the family's details as printed on it."""

    family_address: str
    family_email: str | None
    quotient: int | None
    resident: bool
    created_at: datetime


class AttemptExport(BaseModel):
    """An online payment the family started (PayFiP), and how it ended."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    invoice_id: str
    amount_cents: int
    state: str
    reason: str | None
    created_at: datetime
    settled_at: datetime | None


class BillingExport(BaseModel):
    """This service's part of a family's RGPD access export (amounts in cents)."""

    service: Literal["billing"] = "billing"
    family_id: str
    exported_at: datetime
    invoices: list[InvoiceExport]
    payments: list[PaymentRead]
    payment_attempts: list[AttemptExport]


def invoice_export(invoice: Invoice) -> InvoiceExport:
    """The API view of an invoice, plus what the PDF prints about the family."""
    return InvoiceExport(
        **invoice_detail(invoice).model_dump(),
        family_address=invoice.family_address,
        family_email=invoice.family_email,
        quotient=invoice.quotient,
        resident=invoice.resident,
        created_at=invoice.created_at,
    )


@routes.get("/families/{family_id}/export")
@operation(
    "The family's data held by this service (RGPD right of access)",
    tags=("invoices",),
    response=BillingExport,
    errors=(404,),
)
async def export_family(request: web.Request) -> web.Response:
    """GET /families/{family_id}/export: the family's invoices, payments and attempts."""
    family_id = path_id(request, "family_id")
    require_family(request, family_id)
    async with request.app[DATABASE].sessions() as session:
        invoices = await session.scalars(
            select(Invoice)
            .where(Invoice.family_id == family_id, VISIBLE)
            .order_by(Invoice.created_at, Invoice.id)
        )
        payments = await session.scalars(
            select(Payment)
            .where(Payment.family_id == family_id)
            .order_by(Payment.created_at, Payment.id)
        )
        attempts = await session.scalars(
            select(PaymentAttempt)
            .where(PaymentAttempt.family_id == family_id)
            .order_by(PaymentAttempt.created_at, PaymentAttempt.id)
        )
        export = BillingExport(
            family_id=family_id,
            exported_at=utcnow(),
            invoices=[invoice_export(i) for i in invoices],
            payments=[PaymentRead.model_validate(p) for p in payments],
            payment_attempts=[AttemptExport.model_validate(a) for a in attempts],
        )
    response = json_response(export)
    response.headers["Content-Disposition"] = 'attachment; filename="factures.json"'
    return response
