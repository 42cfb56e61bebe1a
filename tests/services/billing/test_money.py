"""Amounts shown to people: « 35,00 € » — comma, no-break space before €, narrow no-break
space between thousands (one formatter, `services.billing.money.euros`)."""

from __future__ import annotations

import pytest

from services.billing.money import euros


@pytest.mark.parametrize(
    ("cents", "shown"),
    [
        (3500, "35,00\u00a0€"),
        (0, "0,00\u00a0€"),
        (5, "0,05\u00a0€"),
        (1500, "15,00\u00a0€"),
        (123450, "1\u202f234,50\u00a0€"),
        (100000000, "1\u202f000\u202f000,00\u00a0€"),
        (-150, "-1,50\u00a0€"),
    ],
)
def test_amounts_are_written_the_french_way(cents: int, shown: str) -> None:
    assert euros(cents) == shown
