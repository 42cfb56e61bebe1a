"""Events this service emits."""

INVOICE_ISSUED = "invoice.issued"
