"""Money as text: integer cents shown the way the manual shows them ("35.00 €")."""

from __future__ import annotations


def euros(cents: int) -> str:
    """`3500` → `35.00 €` (thousands with a narrow space: `1 234.50 €`)."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    grouped = f"{whole:,}".replace(",", "\u202f")
    return f"{sign}{grouped}.{part:02d} €"
