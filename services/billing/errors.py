"""Problems specific to billing."""

from services.kit.problems import NotFound


class InvoiceNotFound(NotFound):
    """No invoice with this id is visible to the caller."""

    slug = "invoice-not-found"
    title = "Invoice not found"
