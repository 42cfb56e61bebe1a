"""The RGPD export of billing: the family's invoices with their lines, payments and online
payment attempts, and nothing of another family."""

from __future__ import annotations

import json

import pytest

from . import scenario
from .conftest import Portal

pytestmark = pytest.mark.asyncio


async def test_the_export_holds_the_familys_invoices_and_payments_and_nothing_of_another(
    portal: Portal,
) -> None:
    await scenario.tariffs(portal)
    fam = await scenario.march(portal)
    await portal.publish((await portal.preview("2026-03"))["id"])
    [alpha_invoice] = (await portal.invoices(fam.alpha))["items"]
    [bravo_invoice] = (await portal.invoices(fam.bravo))["items"]
    paid = await portal.billing.post(
        "/payments",
        json={"family_id": fam.alpha, "amount_cents": 1000, "method": "cheque",
              "reference": "CHQ-ALPHA", "received_on": "2026-04-02",
              "allocations": [{"invoice_id": alpha_invoice["id"], "amount_cents": 1000}]},
        headers=portal.staff,
    )  # fmt: skip
    assert paid.status == 201, await paid.text()
    started = await portal.billing.post(
        f"/families/{fam.alpha}/invoices/{alpha_invoice['id']}/payfip",
        headers=portal.parent(fam.alpha),
    )
    assert started.status == 201, await started.text()
    await portal.billing.post(
        "/payments",
        json={"family_id": fam.bravo, "amount_cents": 500, "method": "especes",
              "reference": "CASH-BRAVO", "received_on": "2026-04-03"},
        headers=portal.staff,
    )  # fmt: skip

    response = await portal.billing.get(
        f"/families/{fam.alpha}/export", headers=portal.parent(fam.alpha)
    )

    assert response.status == 200, await response.text()
    assert "attachment" in response.headers["Content-Disposition"]
    export = await response.json()
    assert export["service"] == "billing" and export["family_id"] == fam.alpha
    [invoice] = export["invoices"]
    assert invoice["id"] == alpha_invoice["id"] and invoice["amount_cents"] == 2680
    assert invoice["family_email"] == "alpha@example.org" and invoice["quotient"] == 450
    assert {line["person_name"] for line in invoice["lines"]} == {"Léa ALPHA"}
    [payment] = export["payments"]
    assert payment["reference"] == "CHQ-ALPHA"
    assert payment["allocations"] == [{"invoice_id": alpha_invoice["id"], "amount_cents": 1000}]
    [attempt] = export["payment_attempts"]
    assert attempt["invoice_id"] == alpha_invoice["id"] and attempt["state"] == "pending"
    text = json.dumps(export)
    for foreign in (fam.bravo, bravo_invoice["id"], bravo_invoice["number"], "BRAVO", "CASH-BRAVO"):
        assert foreign not in text


async def test_a_draft_is_not_exported_and_another_familys_export_is_a_404(
    portal: Portal,
) -> None:
    await scenario.tariffs(portal)
    fam = await scenario.march(portal)
    await portal.preview("2026-03")  # drafts only: nothing issued yet

    mine = await portal.billing.get(
        f"/families/{fam.alpha}/export", headers=portal.parent(fam.alpha)
    )
    assert mine.status == 200 and (await mine.json())["invoices"] == []
    foreign = await portal.billing.get(
        f"/families/{fam.bravo}/export", headers=portal.parent(fam.alpha)
    )
    assert foreign.status == 404
    assert foreign.content_type == "application/problem+json"
    by_staff = await portal.billing.get(f"/families/{fam.bravo}/export", headers=portal.staff)
    assert by_staff.status == 200 and (await by_staff.json())["family_id"] == fam.bravo
    assert (await portal.billing.get(f"/families/{fam.alpha}/export")).status == 401
