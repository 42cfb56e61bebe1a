"""Money as text: integer cents shown the way the reader's language writes them.

`3500` → « 35,00 € » in French: a decimal comma, a no-break space before the euro sign (the
amount never wraps away from it), thousands grouped with a narrow no-break space
(`1 234,50 €`), as the French typographic rules (and the Imprimerie nationale's lexicon)
want. English pages ask for `locale="en_GB"`: `€35.00`, `€1,234.50`. Babel's CLDR data
writes both. Pages, PDFs and messages all use `euros`; only machine formats (CSV, PayFiP's
`montant`) keep cents.
"""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency

NO_BREAK_SPACE = "\u00a0"
NARROW_NO_BREAK_SPACE = "\u202f"


def euros(cents: int, locale: str = "fr_FR") -> str:
    """`3500` → `35,00 €`; `123450` → `1 234,50 €`; `-150` → `-1,50 €` (`€35.00` in en_GB)."""
    # Decimal, never float: the cents are exact, and scaleb keeps them so.
    return format_currency(Decimal(cents).scaleb(-2), "EUR", locale=locale)
