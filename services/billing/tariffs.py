"""Tariffs: the price of a unit by quotient familial, dated, resident or not.

Rounding rule (documented in docs/billing.md): a rate tariff computes
`QF × rate_cents_per_qf` with `Decimal`, rounds it to the cent HALF-UP (0.5 cent → 1 cent),
then keeps it between the floor and the ceiling. Bracket prices are integer cents already.
A family with no known quotient pays the highest bracket (or the ceiling).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.kit.outbox import utcnow

from .errors import OverlappingBrackets, TariffExists, TariffNotFound
from .models import ActivityRule, Tariff, TariffBracket
from .schemas import BracketIn, TariffCreate


def round_half_up(value: Decimal) -> int:
    """Decimal cents → integer cents, half-up (never banker's rounding, never float)."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def check_brackets(brackets: list[BracketIn]) -> None:
    """Refuse brackets that overlap, naming the two and the quotient they share."""
    ordered = sorted(brackets, key=lambda b: b.qf_min)
    for before, after in pairwise(ordered):
        if before.qf_max is None or before.qf_max >= after.qf_min:
            shared = after.qf_min
            upper = "∞" if before.qf_max is None else str(before.qf_max)
            raise OverlappingBrackets(
                f"Les tranches {before.qf_min}–{upper} et {after.qf_min}–"
                f"{after.qf_max if after.qf_max is not None else '∞'} se chevauchent "
                f"(QF {shared} est dans les deux).",
                errors=[{"field": "brackets", "message": f"overlap at QF {shared}"}],
            )


def price_cents(tariff: Tariff, quotient: int | None) -> int:
    """The price of one unit for this quotient (None: unknown → the highest price)."""
    if tariff.mode == "rate":
        assert tariff.floor_cents is not None and tariff.ceiling_cents is not None
        if quotient is None:
            return tariff.ceiling_cents
        assert tariff.rate_cents_per_qf is not None
        raw = round_half_up(Decimal(quotient) * Decimal(tariff.rate_cents_per_qf))
        return max(tariff.floor_cents, min(tariff.ceiling_cents, raw))
    brackets = sorted(tariff.brackets, key=lambda b: b.qf_min)
    if not brackets:
        raise ValueError(f"tariff {tariff.id} has no bracket")
    if quotient is not None:
        for bracket in brackets:
            if bracket.qf_min <= quotient and (
                bracket.qf_max is None or quotient <= bracket.qf_max
            ):
                return bracket.price_cents
    # Unknown quotient, or one in no bracket (a gap): the highest bracket's price.
    return brackets[-1].price_cents


async def create_tariff(session: AsyncSession, *, data: TariffCreate) -> Tariff:
    """Add a dated tariff; overlapping brackets and a duplicate date are refused."""
    if data.mode == "brackets":
        check_brackets(data.brackets)
    tariff = Tariff(
        id=str(uuid.uuid4()),
        activity_id=data.activity_id,
        activity_name=data.activity_name,
        unit=data.unit,
        resident=data.resident,
        valid_from=data.valid_from,
        mode=data.mode,
        rate_cents_per_qf=data.rate_cents_per_qf,
        floor_cents=data.floor_cents,
        ceiling_cents=data.ceiling_cents,
        created_at=utcnow(),
        brackets=[
            TariffBracket(
                id=str(uuid.uuid4()), qf_min=b.qf_min, qf_max=b.qf_max, price_cents=b.price_cents
            )
            for b in data.brackets
        ],
    )
    session.add(tariff)
    try:
        await session.flush()
    except IntegrityError:
        raise TariffExists(
            f"Un tarif existe déjà pour {data.activity_name} / {data.unit} "
            f"({'résident' if data.resident else 'non résident'}) à partir du "
            f"{data.valid_from:%d/%m/%Y}."
        ) from None
    return tariff


async def list_tariffs(session: AsyncSession, *, activity_id: str | None = None) -> list[Tariff]:
    """Every tariff, by activity, unit, residency and date."""
    statement = select(Tariff)
    if activity_id:
        statement = statement.where(Tariff.activity_id == activity_id)
    statement = statement.order_by(
        Tariff.activity_name, Tariff.unit, Tariff.resident.desc(), Tariff.valid_from
    )
    return list(await session.scalars(statement))


async def get_tariff(session: AsyncSession, tariff_id: str) -> Tariff:
    """One tariff, or 404."""
    tariff = await session.get(Tariff, tariff_id)
    if tariff is None:
        raise TariffNotFound("Ce tarif n'existe pas.")
    return tariff


@dataclass
class TariffBook:
    """Every tariff and absence rule, loaded once for a run: lookups without queries."""

    by_key: dict[tuple[str, str, bool], list[Tariff]]
    bill_unjustified: dict[str, bool]

    def find(self, activity_id: str, unit: str, resident: bool, day: date) -> Tariff | None:
        """The tariff in force on `day` (latest `valid_from` not after it)."""
        best = None
        for tariff in self.by_key.get((activity_id, unit, resident), ()):
            if tariff.valid_from <= day and (best is None or tariff.valid_from > best.valid_from):
                best = tariff
        return best


async def load_book(session: AsyncSession) -> TariffBook:
    """Load every tariff and rule."""
    by_key: dict[tuple[str, str, bool], list[Tariff]] = {}
    for tariff in await session.scalars(select(Tariff)):
        by_key.setdefault((tariff.activity_id, tariff.unit, tariff.resident), []).append(tariff)
    rules = {
        r.activity_id: r.bill_unjustified_absences
        for r in await session.scalars(select(ActivityRule))
    }
    return TariffBook(by_key, rules)


async def set_rule(session: AsyncSession, *, activity_id: str, bill_unjustified: bool) -> None:
    """Say whether an activity bills unjustified absences."""
    rule = await session.get(ActivityRule, activity_id)
    if rule is None:
        session.add(
            ActivityRule(activity_id=activity_id, bill_unjustified_absences=bill_unjustified)
        )
    else:
        rule.bill_unjustified_absences = bill_unjustified
