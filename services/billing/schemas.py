"""What the billing API accepts and returns (amounts in integer cents)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .payment_methods import RecordedMethod

Id = Annotated[str, Field(min_length=1, max_length=36, pattern=r"^[^\x00-\x1f]+$")]
# Years 1000-2999: 9999-12 has no following month and 0000 is no year (both were 500s).
Month = Annotated[str, Field(pattern=r"^[12][0-9]{3}-(0[1-9]|1[0-2])$", description="YYYY-MM")]
Cents = Annotated[int, Field(ge=0, le=100_000_000, description="centimes d'euro")]
Text = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")]

STATE_LABELS = {
    "draft": "Brouillon",
    "issued": "À payer",
    "partially_paid": "Partiellement payée",
    "paid": "Soldée",
    "sent_to_treasury": "Transmise au Trésor Public",
    "cancelled": "Annulée",
}
TO_PAY_STATES = ("issued", "partially_paid", "sent_to_treasury")
SETTLED_STATES = ("paid", "cancelled")


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BracketIn(_Input):
    """A price for quotients from `qf_min` to `qf_max` (None: and above)."""

    qf_min: int = Field(ge=0, le=100_000)
    qf_max: int | None = Field(None, ge=0, le=100_000)
    price_cents: Cents

    @model_validator(mode="after")
    def _ordered(self) -> BracketIn:
        if self.qf_max is not None and self.qf_max < self.qf_min:
            raise ValueError("qf_max must be at least qf_min")
        return self


class TariffCreate(_Input):
    """A dated tariff of one unit of one activity."""

    activity_id: Id
    activity_name: Text
    unit: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[^\x00-\x1f]+$")]
    resident: bool = True
    valid_from: date
    mode: Literal["brackets", "rate"]
    brackets: list[BracketIn] = Field(default_factory=list, max_length=50)
    rate_cents_per_qf: Decimal | None = Field(None, ge=0, le=1000, decimal_places=6)
    floor_cents: Cents | None = None
    ceiling_cents: Cents | None = None

    @model_validator(mode="after")
    def _complete(self) -> TariffCreate:
        if self.mode == "brackets" and not self.brackets:
            raise ValueError("a bracket tariff needs at least one bracket")
        if self.mode == "rate":
            if None in (self.rate_cents_per_qf, self.floor_cents, self.ceiling_cents):
                raise ValueError(
                    "a rate tariff needs rate_cents_per_qf, floor_cents, ceiling_cents"
                )
            assert self.floor_cents is not None and self.ceiling_cents is not None
            if self.floor_cents > self.ceiling_cents:
                raise ValueError("floor_cents must not exceed ceiling_cents")
            if self.brackets:
                raise ValueError("a rate tariff has no brackets")
        return self


class BracketRead(BaseModel):
    """A bracket as stored."""

    model_config = ConfigDict(from_attributes=True)

    qf_min: int
    qf_max: int | None
    price_cents: int


class TariffRead(BaseModel):
    """A tariff as stored."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    activity_id: str
    activity_name: str
    unit: str
    resident: bool
    valid_from: date
    mode: str
    rate_cents_per_qf: Decimal | None
    floor_cents: int | None
    ceiling_cents: int | None
    brackets: list[BracketRead]


class TariffList(BaseModel):
    """Tariffs."""

    items: list[TariffRead]


class PriceQuery(_Input):
    """Which price a family pays for a unit on a day."""

    activity_id: Id
    unit: Annotated[str, Field(min_length=1, max_length=40)]
    day: date
    quotient: int | None = Field(None, ge=0, le=100_000)
    resident: bool = True


class PriceRead(BaseModel):
    """The price of one unit."""

    price_cents: int | None
    tariff_id: str | None


class RuleUpdate(_Input):
    """Whether an activity bills unjustified absences."""

    bill_unjustified_absences: bool


class RunCreate(_Input):
    """Ask for a month's preview."""

    month: Month


class LineRead(BaseModel):
    """One child, one day, one unit."""

    model_config = ConfigDict(from_attributes=True)

    person_id: str
    person_name: str
    activity_name: str
    unit: str
    day: date
    attendance: str
    unit_price_cents: int
    amount_cents: int


class InvoiceRead(BaseModel):
    """An invoice as the API shows it (amounts in cents)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    family_id: str
    number: str | None
    kind: str
    state: str
    state_label: str = ""
    month: str | None
    issued_on: date | None
    due_on: date | None
    amount_cents: int
    balance_cents: int
    family_name: str
    cancel_reason: str | None = None
    credits_invoice_id: str | None = None
    replaces_invoice_id: str | None = None
    has_pdf: bool = False
    payable_online: bool = False

    @model_validator(mode="after")
    def _derived(self) -> InvoiceRead:
        self.state_label = STATE_LABELS.get(self.state, self.state)
        self.payable_online = (
            self.kind == "invoice"
            and self.state in ("issued", "partially_paid")
            and self.balance_cents > 0
        )
        return self


class InvoiceDetail(InvoiceRead):
    """An invoice with its lines."""

    lines: list[LineRead]


class InvoiceList(BaseModel):
    """A family's invoices with its financial situation ("Situation financière")."""

    items: list[InvoiceRead]
    to_pay_count: int
    balance_due_cents: int
    as_of: date


class StaffInvoiceList(InvoiceList):
    """One page of the issued invoices staff and the accounting software list: `total`
    counts every invoice of the filter, and the situation covers them all, not the page;
    `next_cursor` (null on the last page) is the `cursor=` of the next page."""

    total: int
    next_cursor: str | None = None


class RunRead(BaseModel):
    """An invoicing run and its totals."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    month: str
    state: str
    created_at: datetime
    published_at: datetime | None
    invoice_count: int
    total_cents: int
    warnings: list[str]


class RunDetail(RunRead):
    """A run with its invoices (drafts for a preview)."""

    invoices: list[InvoiceDetail]


class RunList(BaseModel):
    """Runs, newest first."""

    items: list[RunRead]


class CreditRequest(_Input):
    """Cancel an issued invoice with a credit note; optionally reissue it without some lines."""

    reason: Annotated[str, Field(min_length=3, max_length=500, pattern=r"^[^\x00]+$")]
    reissue: bool = False
    remove_line_days: list[date] = Field(default_factory=list, max_length=100)


class CreditResult(BaseModel):
    """The cancelled invoice, its credit note and the reissued invoice if any."""

    cancelled: InvoiceRead
    credit_note: InvoiceRead
    reissued: InvoiceRead | None


class AllocationIn(_Input):
    """The part of a payment settling one invoice."""

    invoice_id: Id
    amount_cents: Annotated[int, Field(gt=0, le=100_000_000)]


class PaymentCreate(_Input):
    """A payment recorded by the finance department (Treasury collections, cheques…)."""

    family_id: Id
    amount_cents: Annotated[int, Field(gt=0, le=100_000_000)]
    method: RecordedMethod
    reference: Annotated[str, Field(max_length=80, pattern=r"^[^\x00-\x1f]*$")] | None = None
    received_on: date
    allocations: list[AllocationIn] = Field(default_factory=list, max_length=100)


class AllocationRead(BaseModel):
    """An allocation as stored."""

    model_config = ConfigDict(from_attributes=True)

    invoice_id: str
    amount_cents: int


class PaymentRead(BaseModel):
    """A payment and its receipt number."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    family_id: str
    amount_cents: int
    method: str
    reference: str | None
    received_on: date
    receipt_number: str
    allocations: list[AllocationRead]


class StatementEntry(BaseModel):
    """One line of a family's account statement."""

    on: date
    kind: Literal["invoice", "credit_note", "payment"]
    label: str
    debit_cents: int
    credit_cents: int
    balance_cents: int


class Statement(BaseModel):
    """A family's account: invoices, credit notes and payments, with a running balance."""

    family_id: str
    entries: list[StatementEntry]
    balance_cents: int


class PayfipStart(BaseModel):
    """Where to send the browser to pay."""

    attempt_id: str
    idop: str
    redirect_url: str


class AttemptRead(BaseModel):
    """A PayFiP attempt's state."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    invoice_id: str
    state: str
    amount_cents: int
    reason: str | None
