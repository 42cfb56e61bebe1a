"""Paging the municipal reads (`GET /reservations`, `GET /registrations`).

Rows come in (updated_at, id) order. A page that is full carries `next_cursor`, the position
of its last row; the next call with `cursor=` starts strictly after it. `since` alone cannot
page: a closure cancels every reservation of a day in one transaction, so hundreds of rows
share one `updated_at`, and « changed at or after the last one » would return the same page
again and again.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_


@dataclass(frozen=True)
class Position:
    """The last row a page sent."""

    at: datetime
    id: str

    def encode(self) -> str:
        """An opaque cursor for the next call."""
        raw = f"{self.at.isoformat()}|{self.id}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str) -> Position:
        """The position of a cursor; ValueError when it is not one of ours."""
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
            at, id_ = raw.split("|", 1)
            moment = datetime.fromisoformat(at)
        except (ValueError, UnicodeDecodeError):
            raise ValueError("Curseur invalide : reprenez le next_cursor reçu.") from None
        if moment.tzinfo is None or not id_:
            raise ValueError("Curseur invalide : reprenez le next_cursor reçu.")
        return cls(moment, id_)


def after(updated_at: Any, id_: Any, position: Position) -> Any:
    """Rows strictly after `position` in (updated_at, id) order."""
    return or_(updated_at > position.at, and_(updated_at == position.at, id_ > position.id))


def next_cursor(rows: list[Any], limit: int) -> str | None:
    """The cursor after a full page (there may be more), None after the last one."""
    if len(rows) < limit:
        return None
    return Position(rows[-1].updated_at, rows[-1].id).encode()
