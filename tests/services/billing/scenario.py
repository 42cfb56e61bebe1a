"""The March 2026 scenario whose totals are computed by hand in `test_run.py`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .conftest import CANTINE, Portal

BRACKETS_JAN = [
    {"qf_min": 0, "qf_max": 500, "price_cents": 800},
    {"qf_min": 501, "qf_max": 1000, "price_cents": 1200},
    {"qf_min": 1001, "qf_max": None, "price_cents": 1800},
]
BRACKETS_MID_MARCH = [
    {"qf_min": 0, "qf_max": 500, "price_cents": 900},
    {"qf_min": 501, "qf_max": 1000, "price_cents": 1300},
    {"qf_min": 1001, "qf_max": None, "price_cents": 1900},
]


@dataclass
class Families:
    alpha: str
    bravo: str
    charlie: str
    delta: str
    echo: str


async def tariffs(portal: Portal) -> None:
    """ALSH by brackets (price change on 16 March), canteen by rate; non-resident prices."""
    await portal.tariff(mode="brackets", brackets=BRACKETS_JAN)
    await portal.tariff(mode="brackets", valid_from="2026-03-16", brackets=BRACKETS_MID_MARCH)
    await portal.tariff(
        mode="brackets", resident=False, brackets=[{"qf_min": 0, "price_cents": 2500}]
    )
    canteen = {"activity_id": CANTINE, "activity_name": "Restauration scolaire", "unit": "repas"}
    await portal.tariff(
        **canteen, mode="rate", rate_cents_per_qf="0.4", floor_cents=150, ceiling_cents=450
    )
    await portal.tariff(
        **canteen, resident=False, mode="brackets", brackets=[{"qf_min": 0, "price_cents": 500}]
    )
    response = await portal.billing.put(
        f"/activity-rules/{CANTINE}",
        json={"bill_unjustified_absences": False},
        headers=portal.staff,
    )
    assert response.status == 200


async def march(portal: Portal) -> Families:
    """Five households and their booked units of March 2026 (plus one of April)."""
    fam = Families(
        alpha=await portal.family("ALPHA", quotient=450, email="alpha@example.org"),
        bravo=await portal.family("BRAVO", quotient=1003),
        charlie=await portal.family("CHARLIE", quotient=None, postal_code="75001"),
        delta=await portal.family("DELTA", quotient=300),
        echo=await portal.family("ECHO", quotient=800),
    )
    add = portal.lines.add
    canteen = {"activity_id": CANTINE, "activity_name": "Restauration scolaire", "unit": "repas"}
    # ALPHA, QF 450, resident: ALSH 800 + 800 + (justified: 0) + 900 (new tariff) = 2500;
    # canteen 450 × 0.4 = 180, the unjustified absence not billed there → 2680.
    add(fam.alpha, "lea", "Léa ALPHA", date(2026, 3, 2))
    add(fam.alpha, "lea", "Léa ALPHA", date(2026, 3, 3), state="present")
    add(fam.alpha, "lea", "Léa ALPHA", date(2026, 3, 4), state="absent_justified")
    add(fam.alpha, "lea", "Léa ALPHA", date(2026, 3, 17), state="present")
    add(fam.alpha, "lea", "Léa ALPHA", date(2026, 3, 2), state="present", **canteen)
    add(fam.alpha, "lea", "Léa ALPHA", date(2026, 3, 5), state="absent_unjustified", **canteen)
    # BRAVO, QF 1003: ALSH unjustified absence billed 1800; canteen 1003 × 0.4 = 401.2 → 401.
    add(fam.bravo, "tom", "Tom BRAVO", date(2026, 3, 10), state="absent_unjustified")
    add(fam.bravo, "tom", "Tom BRAVO", date(2026, 3, 10), state="present", **canteen)
    add(fam.bravo, "tom", "Tom BRAVO", date(2026, 4, 1))  # April: not in this run
    # CHARLIE, no QF, not resident: 2500 + 500 = 3000.
    add(fam.charlie, "zoe", "Zoé CHARLIE", date(2026, 3, 20))
    add(fam.charlie, "zoe", "Zoé CHARLIE", date(2026, 3, 20), **canteen)
    # DELTA: a justified absence only → no invoice.
    add(fam.delta, "max", "Max DELTA", date(2026, 3, 9), state="absent_justified")
    # ECHO, QF 800: Léa also lives there; the day booked by this household is billed to it:
    # 1300 (bracket 501–1000 after the change).
    add(fam.echo, "lea", "Léa ALPHA", date(2026, 3, 24))
    return fam


EXPECTED = {"ALPHA": 2680, "BRAVO": 2201, "CHARLIE": 3000, "ECHO": 1300}
