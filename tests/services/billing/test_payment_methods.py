"""Billing names each payment method in French and in English (its `payment.received` event
carries both, for the receipt e-mail); the English pages say the same, from the gateway's
catalogue, so that a parent reads one name in the e-mail and on the page."""

from __future__ import annotations

import json
from pathlib import Path

from services.billing.payment_methods import METHOD_LABELS, METHOD_LABELS_EN

CATALOGUE = Path(__file__).parents[3] / "gateway" / "i18n" / "en.billing.json"


def test_every_method_has_an_english_name() -> None:
    assert set(METHOD_LABELS_EN) == set(METHOD_LABELS)
    assert all(METHOD_LABELS_EN.values())


def test_the_english_pages_name_each_method_as_the_receipt_email_does() -> None:
    pages = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    assert {code: pages.get(label) for code, label in METHOD_LABELS.items()} == METHOD_LABELS_EN
