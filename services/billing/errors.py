"""Problems specific to billing: each names precisely what was refused and why."""

from services.kit.problems import (
    BadGateway,
    Conflict,
    NotFound,
    ServiceUnavailable,
    ValidationFailed,
)


class InvoiceNotFound(NotFound):
    """No invoice with this id is visible to the caller (another family's answers the same)."""

    slug = "invoice-not-found"
    title = "Invoice not found"


class TariffNotFound(NotFound):
    """No tariff with this id."""

    slug = "tariff-not-found"
    title = "Tariff not found"


class RunNotFound(NotFound):
    """No invoicing run with this id."""

    slug = "run-not-found"
    title = "Invoicing run not found"


class PaymentNotFound(NotFound):
    """No payment with this id visible to the caller."""

    slug = "payment-not-found"
    title = "Payment not found"


class OverlappingBrackets(ValidationFailed):
    """Two quotient brackets of one tariff cover the same quotient."""

    slug = "overlapping-brackets"
    title = "Quotient brackets overlap"


class TariffExists(Conflict):
    """A tariff for this activity, unit, residency and date exists already."""

    slug = "tariff-exists"
    title = "A tariff already starts on this date"


class MonthAlreadyInvoiced(Conflict):
    """A run for this month was published already: nothing may be billed twice."""

    slug = "month-already-invoiced"
    title = "This month is already invoiced"


class RunNotPreview(Conflict):
    """The run is no longer a preview (published or discarded)."""

    slug = "run-not-preview"
    title = "The run is no longer a preview"


class BookingsChangedSincePreview(Conflict):
    """The month's billable lines differ from what the preview's drafts were made of."""

    slug = "bookings-changed-since-preview"
    title = "The month's bookings changed since the preview"


class MissingTariff(Conflict):
    """A billable line has no tariff for its activity, unit and date."""

    slug = "missing-tariff"
    title = "No tariff for a billable line"


class InvoiceStateConflict(Conflict):
    """The invoice's state does not allow this (e.g. paying a settled invoice)."""

    slug = "invoice-state"
    title = "The invoice's state does not allow this"


class AllocationRefused(ValidationFailed):
    """A payment's allocation does not fit the invoices' balances."""

    slug = "allocation-refused"
    title = "The allocation does not fit"


class PaymentRefused(Conflict):
    """A PayFiP notification or detail that cannot settle an invoice."""

    slug = "payment-refused"
    title = "The payment cannot be accepted"


class PayfipUnavailable(BadGateway):
    """PayFiP did not answer properly."""

    slug = "payfip-unavailable"
    title = "PayFiP is unavailable"


class UpstreamUnavailable(ServiceUnavailable):
    """The bookings or families service could not be read."""

    slug = "upstream-unavailable"
    title = "A service needed for invoicing is unavailable"


class StorageUnavailable(ServiceUnavailable):
    """The PDF store could not be reached."""

    slug = "storage-unavailable"
    title = "Invoice storage unavailable"


class UnknownOperation(NotFound):
    """No PayFiP attempt carries this operation id."""

    slug = "unknown-payfip-operation"
    title = "Unknown PayFiP operation"


class PaymentInProgress(Conflict):
    """An online payment of this invoice is under way and cannot be checked or replaced now."""

    slug = "payment-in-progress"
    title = "An online payment of this invoice is in progress"


class PaymentCompleted(Conflict):
    """The earlier online payment of this invoice went through: nothing more to pay online."""

    slug = "payment-completed"
    title = "The earlier online payment went through"


class NothingToInvoice(Conflict):
    """The preview has no invoice: publishing it would only close the month to billing."""

    slug = "nothing-to-invoice"
    title = "Nothing to invoice this month"
