"""The demo seed: the manual's invoices for the family TEST, idempotent, numbers continue."""

from __future__ import annotations

from portail.demo import DEMO_FAMILY_ID
from services.billing.seed import seed_demo
from services.kit.keys import DATABASE

from .conftest import Portal


async def test_the_seed_gives_the_manuals_invoices_once_and_numbering_continues(
    portal: Portal,
) -> None:
    database = portal.billing.app[DATABASE]
    await seed_demo(database)
    await seed_demo(database)
    to_pay = await portal.invoices(DEMO_FAMILY_ID, state="to_pay")
    assert [(i["number"], i["issued_on"], i["amount_cents"], i["balance_cents"])
            for i in to_pay["items"]] == [("F200300001", "2020-03-01", 3500, 1500)]  # fmt: skip
    settled = await portal.invoices(DEMO_FAMILY_ID, state="settled")
    assert len(settled["items"]) == 2
    rows = await portal.sql("SELECT last_value FROM number_counters WHERE prefix = 'F'")
    assert rows == [(3,)]
    pdf = await portal.billing.get(
        f"/families/{DEMO_FAMILY_ID}/invoices/{to_pay['items'][0]['id']}/pdf",
        headers=portal.parent(DEMO_FAMILY_ID),
    )
    assert pdf.status == 200
