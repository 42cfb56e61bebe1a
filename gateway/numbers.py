"""What a page takes for a number in a form or an address: ASCII digits, nothing else.

`str.isdigit()` also says yes to « ² » or « ① », which `int()` then refuses (a 500), and to
other scripts' digits, which the services would refuse in their own words.
"""

from __future__ import annotations


def is_plain_number(text: str) -> bool:
    """Whether `text` is one or more ASCII digits."""
    return text.isascii() and text.isdigit()
