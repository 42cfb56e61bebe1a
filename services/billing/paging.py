"""Keyset paging of the staff invoice list (`GET /staff/invoices?cursor=`).

The list is ordered newest number first, the id breaking ties (an invoice without a number
comes last). A page carries `next_cursor`, the position of its last invoice; the next call
with `cursor=` starts strictly after it. Unlike `offset`, a position does not move when an
invoice is issued meanwhile: a new invoice (a higher number) sorts before it and is not
seen again; a credit note (`A…` sorts after `F…`) sorts after it and comes in a later page.

The cursor is opaque but not secret: it is the position only, never a filter or a right, so
a hand-made one can place a reader nowhere they could not page to. It is read strictly:
anything that is not a position written here is a 422 naming `cursor`.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, or_

from .models import Invoice

_VERSION = "i1"
_CURSOR = re.compile(r"^[A-Za-z0-9_-]{1,200}$")
_NUMBER = re.compile(r"^[A-Z0-9]{1,20}$")
_ID = re.compile(r"^[A-Za-z0-9-]{1,36}$")
INVALID = "Curseur invalide : reprenez le next_cursor reçu."


@dataclass(frozen=True)
class Position:
    """The last invoice a page sent: its number (None when it has none) and its id."""

    number: str | None
    id: str

    def encode(self) -> str:
        """An opaque cursor for the next call."""
        raw = f"{_VERSION}|{self.number or ''}|{self.id}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str) -> Position:
        """The position of a cursor; ValueError when it is not one of ours."""
        if not _CURSOR.match(cursor):  # b64decode would skip the characters it does not know
            raise ValueError(INVALID)
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise ValueError(INVALID) from None
        version, _, rest = raw.partition("|")
        number, _, id_ = rest.partition("|")
        if version != _VERSION or not _ID.match(id_) or (number and not _NUMBER.match(number)):
            raise ValueError(INVALID)
        return cls(number or None, id_)

    @classmethod
    def of(cls, invoice: Invoice) -> Position:
        """The position of an invoice in the list."""
        return cls(invoice.number, invoice.id)


def after(position: Position) -> ColumnElement[bool]:
    """Invoices strictly after `position` in (number DESC NULLS LAST, id DESC) order."""
    if position.number is None:
        return and_(Invoice.number.is_(None), Invoice.id < position.id)
    return or_(
        Invoice.number < position.number,
        Invoice.number.is_(None),
        and_(Invoice.number == position.number, Invoice.id < position.id),
    )
