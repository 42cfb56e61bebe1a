"""What the billing API returns."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict


class InvoiceRead(BaseModel):
    """An invoice as the API shows it (amounts in cents)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    number: str
    issued_on: date
    amount_cents: int
    balance_cents: int


class InvoiceList(BaseModel):
    """A family's invoices."""

    items: list[InvoiceRead]
