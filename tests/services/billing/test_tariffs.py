"""Tariffs: brackets, rate × QF with floor and ceiling, half-up rounding, dates, overlaps."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from services.billing.models import Tariff, TariffBracket
from services.billing.tariffs import TariffBook, price_cents, round_half_up

from .conftest import ALSH, Portal


def _brackets() -> Tariff:
    tariff = Tariff(id="t", mode="brackets")
    tariff.brackets = [
        TariffBracket(qf_min=0, qf_max=500, price_cents=500),
        TariffBracket(qf_min=501, qf_max=1000, price_cents=900),
        TariffBracket(qf_min=1001, qf_max=None, price_cents=1500),
    ]
    return tariff


def test_bracket_prices_follow_the_quotient_and_an_unknown_quotient_pays_the_highest() -> None:
    tariff = _brackets()
    assert [price_cents(tariff, q) for q in (0, 500, 501, 1000, 1001, 40000)] == [
        500,
        500,
        900,
        900,
        1500,
        1500,
    ]
    assert price_cents(tariff, None) == 1500


def test_rate_prices_are_rounded_half_up_and_kept_between_floor_and_ceiling() -> None:
    tariff = Tariff(
        id="r", mode="rate", rate_cents_per_qf=Decimal("1.5"), floor_cents=300, ceiling_cents=2000
    )
    assert price_cents(tariff, 101) == 300  # 151.5 → 152 → floor 300
    assert price_cents(tariff, 667) == 1001  # 1000.5 → 1001 (half-up, not banker's 1000)
    assert price_cents(tariff, 669) == 1004  # 1003.5 → 1004
    assert price_cents(tariff, 5000) == 2000  # ceiling
    assert price_cents(tariff, None) == 2000  # unknown QF → ceiling
    assert round_half_up(Decimal("2.5")) == 3 and round_half_up(Decimal("3.5")) == 4


def test_the_tariff_in_force_is_the_latest_dated_one_not_after_the_day() -> None:
    old = Tariff(id="old", valid_from=date(2026, 1, 1), mode="brackets")
    new = Tariff(id="new", valid_from=date(2026, 3, 15), mode="brackets")
    book = TariffBook({(ALSH, "journée", True): [new, old]}, {})
    assert book.find(ALSH, "journée", True, date(2026, 3, 14)) is old
    assert book.find(ALSH, "journée", True, date(2026, 3, 15)) is new
    assert book.find(ALSH, "journée", True, date(2025, 12, 31)) is None
    assert book.find(ALSH, "journée", False, date(2026, 3, 20)) is None


async def test_overlapping_brackets_are_refused_with_the_quotient_they_share(
    portal: Portal,
) -> None:
    body = {
        "activity_id": ALSH,
        "activity_name": "ALSH Josta Leku",
        "unit": "journée",
        "valid_from": "2026-01-01",
        "mode": "brackets",
        "brackets": [
            {"qf_min": 0, "qf_max": 600, "price_cents": 500},
            {"qf_min": 550, "qf_max": None, "price_cents": 900},
        ],
    }
    response = await portal.billing.post("/tariffs", json=body, headers=portal.staff)
    assert response.status == 422
    problem = await response.json()
    assert problem["type"].endswith("/overlapping-brackets")
    assert "550" in problem["detail"]
    assert await portal.sql("SELECT id FROM tariffs") == []


async def test_a_second_tariff_on_the_same_date_is_refused_and_a_later_one_is_a_price_change(
    portal: Portal,
) -> None:
    brackets = [{"qf_min": 0, "qf_max": None, "price_cents": 1000}]
    await portal.tariff(mode="brackets", brackets=brackets)
    again = await portal.billing.post(
        "/tariffs",
        json={
            "activity_id": ALSH,
            "activity_name": "ALSH",
            "unit": "journée",
            "valid_from": "2026-01-01",
            "mode": "brackets",
            "brackets": brackets,
        },
        headers=portal.staff,
    )
    assert again.status == 409
    assert (await again.json())["type"].endswith("/tariff-exists")
    await portal.tariff(
        mode="brackets", valid_from="2026-03-15", brackets=[{"qf_min": 0, "price_cents": 1200}]
    )
    prices = []
    for day in ("2026-03-14", "2026-03-15"):
        response = await portal.billing.get(
            "/prices",
            params={"activity_id": ALSH, "unit": "journée", "day": day, "quotient": "700"},
            headers=portal.parent("f"),
        )
        prices.append((await response.json())["price_cents"])
    assert prices == [1000, 1200]


async def test_a_rate_tariff_needs_its_floor_and_ceiling_and_money_is_never_a_float(
    portal: Portal,
) -> None:
    incomplete = await portal.billing.post(
        "/tariffs",
        json={
            "activity_id": ALSH,
            "activity_name": "ALSH",
            "unit": "repas",
            "valid_from": "2026-01-01",
            "mode": "rate",
            "rate_cents_per_qf": "0.5",
        },
        headers=portal.staff,
    )
    assert incomplete.status == 422
    floaty = await portal.billing.post(
        "/tariffs",
        json={
            "activity_id": ALSH,
            "activity_name": "ALSH",
            "unit": "repas",
            "valid_from": "2026-01-01",
            "mode": "brackets",
            "brackets": [{"qf_min": 0, "price_cents": 12.5}],
        },
        headers=portal.staff,
    )
    assert floaty.status == 422
    created = await portal.tariff(
        unit="repas", mode="rate", rate_cents_per_qf="0.5", floor_cents=150, ceiling_cents=450
    )
    assert created["floor_cents"] == 150 and created["ceiling_cents"] == 450


async def test_parents_may_not_write_tariffs(portal: Portal) -> None:
    response = await portal.billing.post(
        "/tariffs",
        json={
            "activity_id": ALSH,
            "activity_name": "A",
            "unit": "u",
            "valid_from": "2026-01-01",
            "mode": "brackets",
            "brackets": [{"qf_min": 0, "price_cents": 1}],
        },
        headers=portal.parent("f"),
    )
    assert response.status == 403
