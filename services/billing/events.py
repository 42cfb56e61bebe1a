"""Events this service emits (declared in services/notifications/events.py too)."""

# data: invoice_id, number, month, total_cents, balance_cents, due_on — the
# "facture disponible" e-mail is sent from it.
INVOICE_ISSUED = "invoice.issued"
# data: invoice_id, number, reason, credit_note_number
INVOICE_CANCELLED = "invoice.cancelled"
# data: payment_id, receipt_number, amount_cents, method, method_label, method_label_en
# (payment_methods.py's names), invoices — the receipt e-mail.
PAYMENT_RECEIVED = "payment.received"
