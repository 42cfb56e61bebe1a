"""Column types of this service (the kit's)."""

from __future__ import annotations

from services.kit.columns import UtcDateTime

__all__ = ["UtcDateTime"]
