"""What a page takes for a number in a form or an address: ASCII digits, nothing else.

`str.isdigit()` also says yes to « ² » or « ① », which `int()` then refuses (a 500), and to
other scripts' digits, which the services would refuse in their own words. `int()` also
refuses more than 4,300 digits (a 500 again): no number a page reads needs more than 18.
"""

from __future__ import annotations

# Any number of up to 18 digits fits a 64-bit integer, and int() reads it.
MAX_DIGITS = 18


def is_plain_number(text: str) -> bool:
    """Whether `text` is one to `MAX_DIGITS` ASCII digits."""
    return text.isascii() and text.isdigit() and len(text) <= MAX_DIGITS
