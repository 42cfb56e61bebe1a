"""The ways a payment reaches the town, and the name people read for each.

The one list: the statement's lines, the receipt's PDF and the staff's payment form all
name a method from here (the gateway translates the name on English pages). The English
names are billing's too: the `payment.received` event carries both, so that the receipt
e-mail says how the invoice was paid in the family's language without knowing the codes
(tests/services/billing/test_payment_methods.py checks the gateway's catalogue agrees).
"""

from __future__ import annotations

from typing import Literal

PAYFIP = "payfip"
METHOD_LABELS = {
    PAYFIP: "Paiement en ligne (PayFiP)",
    "tresor_public": "Encaissement du Trésor Public",
    "cheque": "Chèque",
    "especes": "Espèces",
    "virement": "Virement",
    "cesu": "CESU",
    "autre": "Autre",
}
METHOD_LABELS_EN = {
    PAYFIP: "Online payment (PayFiP)",
    "tresor_public": "Collected by the Trésor Public",
    "cheque": "Cheque",
    "especes": "Cash",
    "virement": "Bank transfer",
    "cesu": "CESU (service voucher)",
    "autre": "Other",
}
# What the finance department records by hand: every method but PayFiP, whose payments only
# a verified online payment creates.
RECORDED_METHODS = tuple(code for code in METHOD_LABELS if code != PAYFIP)
RecordedMethod = Literal[RECORDED_METHODS]  # type: ignore[valid-type]


def method_label(code: str) -> str:
    """The French name of a payment method (an unknown code as it is)."""
    return METHOD_LABELS.get(code, code)


def method_label_en(code: str) -> str:
    """The English name of a payment method (an unknown code as it is)."""
    return METHOD_LABELS_EN.get(code, code)
