"""Events this service emits (declared in services/notifications/events.py too).

Each names who acted, `by` (the token's subject) and `by_role` (`Identity.acted`); the
automatic run's invoices `by_role: service` alone; a payment PayFiP's notification confirms
names nobody (docs/events.md).
"""

# data: invoice_id, number, month, total_cents, balance_cents, due_on — the
# "facture disponible" e-mail is sent from it.
INVOICE_ISSUED = "invoice.issued"
# data: invoice_id, number, reason, credit_note_number
INVOICE_CANCELLED = "invoice.cancelled"
# data: payment_id, receipt_number, amount_cents, method, method_label, method_label_en
# (payment_methods.py's names), invoices — the receipt e-mail.
PAYMENT_RECEIVED = "payment.received"
