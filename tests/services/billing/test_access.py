"""Who sees what: another family's invoice is a 404 everywhere, parents are kept off staff
routes (403), anonymous callers get 401, municipal systems need their scopes."""

from __future__ import annotations

import pytest

from .conftest import Portal
from .test_payments import issued_invoice

pytestmark = pytest.mark.asyncio


async def test_another_familys_invoices_pdf_and_account_answer_404(portal: Portal) -> None:
    owner, invoice = await issued_invoice(portal)
    intruder = portal.parent("11111111-1111-4111-8111-111111111111")
    paths = [
        ("GET", f"/families/{owner}/invoices"),
        ("GET", f"/families/{owner}/invoices/{invoice['id']}"),
        ("GET", f"/families/{owner}/invoices/{invoice['id']}/pdf"),
        ("GET", f"/families/{owner}/statement"),
        ("GET", f"/dashboard/{owner}"),
        ("POST", f"/families/{owner}/invoices/{invoice['id']}/payfip"),
    ]
    for method, path in paths:
        response = await portal.billing.request(method, path, headers=intruder)
        assert response.status == 404, (method, path, response.status)
    # The intruder's own family id with the owner's invoice id: still 404, nothing leaks.
    mine = "11111111-1111-4111-8111-111111111111"
    for suffix in ("", "/pdf"):
        response = await portal.billing.get(
            f"/families/{mine}/invoices/{invoice['id']}{suffix}", headers=intruder
        )
        assert response.status == 404
    owner_pdf = await portal.billing.get(
        f"/families/{owner}/invoices/{invoice['id']}/pdf", headers=portal.parent(owner)
    )
    assert owner_pdf.status == 200


async def test_parents_are_refused_on_staff_routes(portal: Portal) -> None:
    owner, invoice = await issued_invoice(portal)
    parent = portal.parent(owner)
    staff_routes = [
        ("POST", "/runs", {"month": "2026-04"}),
        ("GET", "/runs", None),
        ("GET", "/staff/invoices", None),
        ("GET", f"/invoices/{invoice['id']}", None),
        ("GET", f"/invoices/{invoice['id']}/pdf", None),
        ("POST", f"/invoices/{invoice['id']}/credit", {"reason": "par moi-même"}),
        ("POST", f"/invoices/{invoice['id']}/transmit", None),
        ("POST", "/payments", {"family_id": owner, "amount_cents": 2400, "method": "cheque",
                               "received_on": "2026-04-01"}),
        ("GET", "/exports/invoices.csv", None),
        ("GET", "/exports/payments.csv", None),
        ("POST", "/payfip/reconcile", None),
        ("PUT", "/activity-rules/x", {"bill_unjustified_absences": False}),
    ]  # fmt: skip
    for method, path, body in staff_routes:
        response = await portal.billing.request(method, path, json=body, headers=parent)
        assert response.status == 403, (method, path, response.status)
        anonymous = await portal.billing.request(method, path, json=body)
        assert anonymous.status == 401, (method, path, anonymous.status)
    assert (await portal.invoices(owner))["items"][0]["state"] == "issued"


async def test_municipal_systems_need_the_billing_scopes(portal: Portal) -> None:
    owner, _ = await issued_invoice(portal)
    bare = portal.signer.headers(role="service", subject="registry", scopes=["families:read"])
    reader = portal.signer.headers(role="service", subject="compta", scopes=["billing:read"])
    assert (await portal.billing.get("/exports/invoices.csv", headers=bare)).status == 403
    assert (await portal.billing.get("/exports/invoices.csv", headers=reader)).status == 200
    assert (await portal.billing.get(f"/families/{owner}/invoices", headers=reader)).status == 200
    payment = {"family_id": owner, "amount_cents": 100, "method": "cheque",
               "received_on": "2026-04-01"}  # fmt: skip
    assert (await portal.billing.post("/payments", json=payment, headers=reader)).status == 403


async def test_staff_cannot_start_a_payment_for_a_family(portal: Portal) -> None:
    owner, invoice = await issued_invoice(portal)
    response = await portal.billing.post(
        f"/families/{owner}/invoices/{invoice['id']}/payfip", headers=portal.staff
    )
    assert response.status == 403


async def test_the_dashboard_tile_counts_invoices_to_pay(portal: Portal) -> None:
    owner, _ = await issued_invoice(portal)
    response = await portal.billing.get(f"/dashboard/{owner}", headers=portal.parent(owner))
    assert await response.json() == {"factures": {"count": 1}}
