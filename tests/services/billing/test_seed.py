"""The demo seed: the manual's invoices for the family TEST, for the three months before the
month to invoice (the one before the seed's), idempotent, numbers continue."""

from __future__ import annotations

from datetime import date

from portail.demo import DEMO_FAMILY_ID
from services.billing.money import euros
from services.billing.seed import seed_demo
from services.kit.keys import DATABASE

from .conftest import Portal


async def test_the_seed_gives_the_manuals_invoices_once_and_numbering_continues(
    portal: Portal,
) -> None:
    database = portal.billing.app[DATABASE]
    said = await seed_demo(database, today=date(2026, 11, 29))
    # Run again a month later: the invoices already there are kept, nothing is added.
    again = await seed_demo(database, today=date(2026, 12, 30))
    assert said == again
    amounts = f"({euros(3500)}, solde {euros(1500)})"
    assert said == [f"Factures de la famille TEST : F261000003 {amounts} et 2 soldées"]
    to_pay = await portal.invoices(DEMO_FAMILY_ID, state="to_pay")
    assert [(i["number"], i["month"], i["issued_on"], i["amount_cents"], i["balance_cents"])
            for i in to_pay["items"]] == [
        ("F261000003", "2026-09", "2026-10-01", 3500, 1500)]  # fmt: skip
    settled = await portal.invoices(DEMO_FAMILY_ID, state="settled")
    assert sorted((i["number"], i["month"]) for i in settled["items"]) == [
        ("F260800001", "2026-07"),
        ("F260900002", "2026-08"),
    ]
    rows = await portal.sql("SELECT last_value FROM number_counters WHERE prefix = 'F'")
    assert rows == [(3,)]
    receipts = await portal.sql(
        "SELECT receipt_number, received_on FROM payments ORDER BY received_on"
    )
    assert [(r, f"{d}") for r, d in receipts] == [
        ("R260800001", "2026-08-11"),
        ("R260900002", "2026-09-11"),
        ("R261000003", "2026-10-11"),
    ]
    detail = await portal.billing.get(
        f"/families/{DEMO_FAMILY_ID}/invoices/{to_pay['items'][0]['id']}",
        headers=portal.parent(DEMO_FAMILY_ID),
    )
    days = [date.fromisoformat(x["day"]) for x in (await detail.json())["lines"]]
    assert days == [date(2026, 9, d) for d in (1, 2, 3, 4, 7)]  # weekdays of September
    # Each month invoiced has its published run, as a publication leaves it; October, the
    # month the staff page opens on, is left to invoice.
    runs = await portal.sql(
        "SELECT r.month, r.state, r.invoice_count, r.total_cents FROM invoicing_runs r "
        "JOIN invoiced_months m ON m.run_id = r.id ORDER BY r.month"
    )
    assert runs == [
        ("2026-07", "published", 1, 2800),
        ("2026-08", "published", 1, 4200),
        ("2026-09", "published", 1, 3500),
    ]
    pdf = await portal.billing.get(
        f"/families/{DEMO_FAMILY_ID}/invoices/{to_pay['items'][0]['id']}/pdf",
        headers=portal.parent(DEMO_FAMILY_ID),
    )
    assert pdf.status == 200


async def test_seeded_early_in_a_year_the_numbers_follow_each_years_counter(
    portal: Portal,
) -> None:
    database = portal.billing.app[DATABASE]
    said = await seed_demo(database, today=date(2027, 2, 5))
    assert said[0].startswith("Factures de la famille TEST : F270100001 ")
    invoices = await portal.invoices(DEMO_FAMILY_ID)
    assert sorted((i["number"], i["month"], i["issued_on"]) for i in invoices["items"]) == [
        ("F261100001", "2026-10", "2026-11-01"),
        ("F261200002", "2026-11", "2026-12-01"),
        ("F270100001", "2026-12", "2027-01-01"),
    ]
    receipts = await portal.sql("SELECT receipt_number, received_on FROM payments")
    assert ("R270100001", date(2027, 1, 11)) in receipts
    rows = await portal.sql(
        "SELECT prefix, year, last_value FROM number_counters ORDER BY prefix, year"
    )
    assert rows == [("F", 2026, 2), ("F", 2027, 1), ("R", 2026, 2), ("R", 2027, 1)]
