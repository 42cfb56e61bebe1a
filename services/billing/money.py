"""Money as text: integer cents shown the French way, the one formatter for people.

`3500` → « 35,00 € »: a decimal comma, a no-break space before the euro sign (the amount
never wraps away from it), thousands grouped with a narrow no-break space (`1 234,50 €`),
as the French typographic rules (and the Imprimerie nationale's lexicon) want. Pages, PDFs
and messages all use `euros`; only machine formats (CSV, PayFiP's `montant`) keep cents.
"""

from __future__ import annotations

NO_BREAK_SPACE = "\u00a0"
NARROW_NO_BREAK_SPACE = "\u202f"


def euros(cents: int) -> str:
    """`3500` → `35,00 €`; `123450` → `1 234,50 €`; `-150` → `-1,50 €`."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    grouped = f"{whole:,}".replace(",", NARROW_NO_BREAK_SPACE)
    return f"{sign}{grouped},{part:02d}{NO_BREAK_SPACE}€"
