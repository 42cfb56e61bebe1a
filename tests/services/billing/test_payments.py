"""PayFiP through the offline simulator, and payments recorded by the finance department.

An invoice is paid only when this server asked PayFiP for the detail and it matched
(promise 33); repeated or lost notifications converge to one payment (promise 34).
"""

from __future__ import annotations

import asyncio
import io
from datetime import date
from typing import Any

from pypdf import PdfReader

from services.billing import clock
from services.billing.payfip_simulator import SIMULATOR, SimulatorState

from .conftest import Portal


def simulator(portal: Portal) -> SimulatorState:
    """The simulator mounted in the billing app under test."""
    return portal.billing.app[SIMULATOR]


async def issued_invoice(portal: Portal, *, days: int = 2) -> tuple[str, dict[str, Any]]:
    """A family with one issued invoice of `days` × 12,00 €."""
    await portal.tariff(mode="brackets", brackets=[{"qf_min": 0, "price_cents": 1200}])
    family = await portal.family("PAYEUR", quotient=700, email="payeur@example.org")
    for day in range(1, days + 1):
        portal.lines.add(family, "kid", "Kid PAYEUR", date(2026, 3, day + 1))
    await portal.publish((await portal.preview("2026-03"))["id"])
    return family, (await portal.invoices(family))["items"][0]


async def start(portal: Portal, family: str, invoice: dict[str, Any]) -> dict[str, Any]:
    response = await portal.billing.post(
        f"/families/{family}/invoices/{invoice['id']}/payfip", headers=portal.parent(family)
    )
    assert response.status == 201, await response.text()
    return dict(await response.json())


async def choose(portal: Portal, started: dict[str, Any], choice: str) -> str:
    """The tester's click on the simulator's page; returns where the browser is sent."""
    session = portal.billing.session
    async with session.get(started["redirect_url"]) as page:
        assert page.status == 200
        assert "24,00\u00a0€" in await page.text()
    async with session.post(
        started["redirect_url"].split("?")[0],
        data={"idop": started["idop"], "choix": choice},
        allow_redirects=False,
    ) as answer:
        assert answer.status == 303
        return answer.headers["Location"]


async def payments_of(portal: Portal) -> list[Any]:
    return await portal.sql("SELECT amount_cents, method, payfip_idop FROM payments")


async def received_events(portal: Portal) -> int:
    rows = await portal.sql(
        "SELECT count(*) FROM outbox_messages WHERE event_type = 'payment.received'"
    )
    return int(rows[0][0])


async def test_a_paid_payment_settles_the_invoice_after_the_servers_own_detail_request(
    portal: Portal,
) -> None:
    family, invoice = await issued_invoice(portal)
    started = await start(portal, family, invoice)
    assert "/payfip-simulator/paiementws.web?idop=" in started["redirect_url"]
    created = simulator(portal).operations[started["idop"]].fields
    assert created["montant"] == "2400" and created["refdet"] == invoice["number"]
    assert created["numcli"] == "000123" and created["mel"] == "payeur@example.org"
    assert created["urlnotif"].endswith("/payfip/notifications")

    location = await choose(portal, started, "P")
    assert location == f"{portal.gateway_url}/api/billing/payfip/return?idop={started['idop']}"
    assert simulator(portal).detail_calls >= 1
    assert await payments_of(portal) == [(2400, "payfip", started["idop"])]
    after = await portal.invoices(family, state="settled")
    assert [i["state_label"] for i in after["items"]] == ["Soldée"]
    assert (await portal.invoices(family, state="to_pay"))["items"] == []
    assert await received_events(portal) == 1

    # The browser's return (through the real gateway) only leads to the page showing the state.
    async with portal.billing.session.get(location, allow_redirects=False) as back:
        assert back.status == 303
        assert back.headers["Location"] == f"/factures/paiement?tentative={started['attempt_id']}"
    state = await portal.billing.get(
        f"/families/{family}/payfip/{started['attempt_id']}", headers=portal.parent(family)
    )
    assert (await state.json())["state"] == "paid"
    again = await portal.billing.post(
        f"/families/{family}/invoices/{invoice['id']}/payfip", headers=portal.parent(family)
    )
    assert again.status == 409
    assert (await again.json())["type"].endswith("/invoice-state")


async def test_refused_and_abandoned_payments_leave_the_invoice_to_pay(portal: Portal) -> None:
    family, invoice = await issued_invoice(portal)
    for choice, state in (("R", "refused"), ("A", "abandoned")):
        started = await start(portal, family, invoice)
        await choose(portal, started, choice)
        rows = await portal.sql(
            "SELECT state FROM payment_attempts WHERE id = :id", id=started["attempt_id"]
        )
        assert rows == [(state,)]
    assert await payments_of(portal) == []
    assert (await portal.invoices(family, state="to_pay"))["items"][0]["balance_cents"] == 2400


async def test_a_forged_return_or_notification_before_payment_pays_nothing(portal: Portal) -> None:
    family, invoice = await issued_invoice(portal)
    started = await start(portal, family, invoice)
    forged = await portal.billing.get(
        "/payfip/return", params={"idop": started["idop"], "resultrans": "P"}, allow_redirects=False
    )
    assert forged.status == 303
    notified = await portal.billing.post(
        "/payfip/notifications", data={"idop": started["idop"], "montant": "2400"}
    )
    assert (await notified.json())["outcome"] == "pending"
    unknown = await portal.billing.get(
        "/payfip/return", params={"idop": "0" * 32}, allow_redirects=False
    )
    assert unknown.headers["Location"] == "/factures?paiement=inconnu"
    assert await payments_of(portal) == []
    assert (await portal.invoices(family, state="to_pay"))["to_pay_count"] == 1


async def test_a_detail_with_another_amount_or_client_number_is_rejected(portal: Portal) -> None:
    family, invoice = await issued_invoice(portal)
    for tamper, field in (({"montant": "100"}, "montant"), ({"numcli": "999999"}, "numcli")):
        simulator(portal).tamper = tamper
        started = await start(portal, family, invoice)
        await choose(portal, started, "P")
        rows = await portal.sql(
            "SELECT state, reason FROM payment_attempts WHERE id = :id", id=started["attempt_id"]
        )
        assert rows[0][0] == "rejected" and field in rows[0][1]
    simulator(portal).tamper = {"montant": "24,00"}
    started = await start(portal, family, invoice)
    await choose(portal, started, "P")
    rows = await portal.sql(
        "SELECT state, reason FROM payment_attempts WHERE id = :id", id=started["attempt_id"]
    )
    assert rows[0][0] == "rejected" and "illisible" in rows[0][1]
    assert await payments_of(portal) == []
    assert (await portal.invoices(family, state="to_pay"))["balance_due_cents"] == 2400


async def test_ten_concurrent_notifications_give_one_payment_and_one_event(portal: Portal) -> None:
    family, invoice = await issued_invoice(portal)
    simulator(portal).lose_notifications = True
    started = await start(portal, family, invoice)
    await choose(portal, started, "P")
    assert await payments_of(portal) == []
    responses = await asyncio.gather(
        *(
            portal.billing.post("/payfip/notifications", data={"idop": started["idop"]})
            for _ in range(10)
        )
    )
    outcomes = sorted([(await r.json())["outcome"] for r in responses])
    assert outcomes == ["already_settled"] * 9 + ["paid"]
    assert len(await payments_of(portal)) == 1
    assert await received_events(portal) == 1
    assert (await portal.invoices(family, state="to_pay"))["items"] == []


async def test_a_lost_notification_is_settled_by_the_reconciliation(portal: Portal) -> None:
    family, invoice = await issued_invoice(portal)
    simulator(portal).lose_notifications = True
    started = await start(portal, family, invoice)
    await choose(portal, started, "P")
    assert simulator(portal).notifications_sent == 0
    assert await payments_of(portal) == []
    response = await portal.billing.post("/payfip/reconcile", headers=portal.staff)
    assert (await response.json())["outcomes"] == {"paid": 1}
    assert len(await payments_of(portal)) == 1
    second = await portal.billing.post("/payfip/reconcile", headers=portal.staff)
    assert (await second.json())["outcomes"] == {}
    assert await received_events(portal) == 1


async def test_an_attempt_never_finished_expires_at_reconciliation(portal: Portal) -> None:
    family, invoice = await issued_invoice(portal)
    started = await start(portal, family, invoice)
    await portal.sql(
        "UPDATE payment_attempts SET expires_at = now() - interval '1 minute' WHERE id = :id",
        id=started["attempt_id"],
    )
    response = await portal.billing.post("/payfip/reconcile", headers=portal.staff)
    assert (await response.json())["outcomes"] == {"expired": 1}
    await start(portal, family, invoice)


async def age(portal: Portal, attempt_id: str) -> None:
    """Make an attempt older than a double click (the parent came back later)."""
    await portal.sql(
        "UPDATE payment_attempts SET created_at = now() - interval '2 minutes' WHERE id = :id",
        id=attempt_id,
    )


async def attempt_states(portal: Portal) -> dict[str, str]:
    rows = await portal.sql("SELECT id, state FROM payment_attempts")
    return {row[0]: row[1] for row in rows}


async def test_a_parent_who_left_payfip_without_paying_may_pay_again_at_once(
    portal: Portal,
) -> None:
    family, invoice = await issued_invoice(portal)
    left = await start(portal, family, invoice)
    await age(portal, left["attempt_id"])
    asked = simulator(portal).detail_calls

    again = await start(portal, family, invoice)

    assert again["attempt_id"] != left["attempt_id"] and again["idop"] != left["idop"]
    assert simulator(portal).detail_calls == asked + 1  # the left attempt was asked first
    rows = await portal.sql(
        "SELECT state, reason FROM payment_attempts WHERE id = :id", id=left["attempt_id"]
    )
    assert rows[0][0] == "abandoned" and "aucun résultat chez PayFiP" in rows[0][1]
    await choose(portal, again, "P")
    assert await payments_of(portal) == [(2400, "payfip", again["idop"])]
    assert (await portal.invoices(family, state="to_pay"))["items"] == []


async def test_refused_or_abandoned_at_payfip_then_a_new_attempt_starts(portal: Portal) -> None:
    family, invoice = await issued_invoice(portal)
    for choice, state in (("R", "refused"), ("A", "abandoned")):
        simulator(portal).lose_notifications = True  # the parent closed the tab at once
        earlier = await start(portal, family, invoice)
        await choose(portal, earlier, choice)
        simulator(portal).lose_notifications = False
        later = await start(portal, family, invoice)
        assert later["attempt_id"] != earlier["attempt_id"]
        states = await attempt_states(portal)
        assert states[earlier["attempt_id"]] == state
        await choose(portal, later, "A")
    assert await payments_of(portal) == []


async def test_an_earlier_attempt_paid_without_return_is_settled_and_not_paid_twice(
    portal: Portal,
) -> None:
    family, invoice = await issued_invoice(portal)
    simulator(portal).lose_notifications = True
    paid = await start(portal, family, invoice)
    await choose(portal, paid, "P")  # paid, but no notification and the browser never came back
    assert await payments_of(portal) == []

    clicks = await asyncio.gather(
        *(
            portal.billing.post(
                f"/families/{family}/invoices/{invoice['id']}/payfip",
                headers=portal.parent(family),
            )
            for _ in range(2)
        )
    )

    # A click that read the attempt still pending is told it went through; one that came
    # after the other's settlement finds the invoice paid (which one is up to the scheduler).
    bodies = [await click.json() for click in clicks]
    assert [click.status for click in clicks] == [409, 409]
    completed = [b for b in bodies if b["type"].endswith("/payment-completed")]
    assert completed, bodies
    assert all(b["type"].endswith("/invoice-state") for b in bodies if b not in completed)
    for body in completed:
        assert body["attempt_id"] == paid["attempt_id"]
        assert "a abouti : elle est réglée" in body["detail"]
    assert await payments_of(portal) == [(2400, "payfip", paid["idop"])]
    assert await received_events(portal) == 1
    assert await attempt_states(portal) == {paid["attempt_id"]: "paid"}
    assert (await portal.invoices(family, state="settled"))["items"][0]["state"] == "paid"


async def test_two_clicks_at_once_after_leaving_payfip_give_one_new_attempt(
    portal: Portal,
) -> None:
    family, invoice = await issued_invoice(portal)
    left = await start(portal, family, invoice)
    await age(portal, left["attempt_id"])

    clicks = await asyncio.gather(
        *(
            portal.billing.post(
                f"/families/{family}/invoices/{invoice['id']}/payfip",
                headers=portal.parent(family),
            )
            for _ in range(2)
        )
    )

    # The second click is handed the first one's attempt, or told it has just begun.
    statuses = sorted(c.status for c in clicks)
    assert statuses in ([201, 201], [201, 409]), statuses
    started = {(await c.json())["attempt_id"] for c in clicks if c.status == 201}
    states = await attempt_states(portal)
    assert len(started) == 1 and states.pop(left["attempt_id"]) == "abandoned"
    assert states == {started.pop(): "pending"}
    for click in clicks:
        if click.status == 409:
            assert (await click.json())["type"].endswith("/payment-in-progress")


async def test_a_double_click_is_handed_the_attempt_it_just_started(portal: Portal) -> None:
    family, invoice = await issued_invoice(portal)
    first = await start(portal, family, invoice)
    second = await start(portal, family, invoice)
    assert second == first
    assert await attempt_states(portal) == {first["attempt_id"]: "pending"}


async def test_payfip_unreachable_keeps_the_pending_attempt_and_says_retry_later(
    portal: Portal, unused_tcp_port: int
) -> None:
    family, invoice = await issued_invoice(portal)
    left = await start(portal, family, invoice)
    await age(portal, left["attempt_id"])
    # The attempt's detail is asked where it was created: nothing listens there any more.
    await portal.sql(
        "UPDATE payment_attempts SET detail = CAST(:detail AS json) WHERE id = :id",
        detail=f'{{"ws": "http://127.0.0.1:{unused_tcp_port}/ws"}}',
        id=left["attempt_id"],
    )
    response = await portal.billing.post(
        f"/families/{family}/invoices/{invoice['id']}/payfip", headers=portal.parent(family)
    )
    body = await response.json()
    assert response.status == 409 and body["type"].endswith("/payment-in-progress")
    assert "Réessayez dans quelques minutes" in body["detail"]
    assert await attempt_states(portal) == {left["attempt_id"]: "pending"}


async def test_a_replaced_attempt_paid_later_on_its_open_page_is_still_recorded(
    portal: Portal,
) -> None:
    family, invoice = await issued_invoice(portal)
    old_tab = await start(portal, family, invoice)
    await age(portal, old_tab["attempt_id"])
    await start(portal, family, invoice)  # replaces it

    await choose(portal, old_tab, "P")  # the parent pays on the PayFiP page left open

    assert await payments_of(portal) == [(2400, "payfip", old_tab["idop"])]
    assert (await attempt_states(portal))[old_tab["attempt_id"]] == "paid"
    assert (await portal.invoices(family, state="to_pay"))["items"] == []
    assert await received_events(portal) == 1


async def test_a_replaced_attempt_paid_with_a_lost_notification_is_reconciled(
    portal: Portal,
) -> None:
    family, invoice = await issued_invoice(portal)
    old_tab = await start(portal, family, invoice)
    await age(portal, old_tab["attempt_id"])
    await start(portal, family, invoice)
    simulator(portal).lose_notifications = True
    await choose(portal, old_tab, "P")
    assert await payments_of(portal) == []
    response = await portal.billing.post("/payfip/reconcile", headers=portal.staff)
    assert (await response.json())["outcomes"] == {"paid": 1, "pending": 1}
    assert await payments_of(portal) == [(2400, "payfip", old_tab["idop"])]


async def test_bad_notifications_are_refused_with_a_precise_reason(portal: Portal) -> None:
    unknown = await portal.billing.post("/payfip/notifications", data={"idop": "a" * 32})
    assert unknown.status == 404
    assert (await unknown.json())["type"].endswith("/unknown-payfip-operation")
    for bad in ("", "../etc", "x" * 65):
        response = await portal.billing.post("/payfip/notifications", data={"idop": bad})
        assert response.status == 400, bad


async def test_an_unreadable_payfip_form_is_a_400_or_the_unknown_page_not_a_500(
    portal: Portal,
) -> None:
    broken = [
        ("application/x-www-form-urlencoded", b"idop=\xff\xfe"),
        ("multipart/form-data", b"no boundary declared"),
    ]
    for content_type, body in broken:
        headers = {"Content-Type": content_type}
        notified = await portal.billing.post("/payfip/notifications", data=body, headers=headers)
        assert notified.status == 400, (content_type, await notified.text())
        assert notified.headers["Content-Type"].startswith("application/problem+json")
        back = await portal.billing.post(
            "/payfip/return", data=body, headers=headers, allow_redirects=False
        )
        assert back.status == 303, (content_type, await back.text())
        assert back.headers["Location"] == "/factures?paiement=inconnu"


async def test_finance_records_a_payment_allocated_with_a_receipt(portal: Portal) -> None:
    family, invoice = await issued_invoice(portal)
    finance = portal.signer.headers(role="service", subject="finances", scopes=["billing:write"])
    over = await portal.billing.post(
        "/payments",
        json={
            "family_id": family,
            "amount_cents": 3000,
            "method": "tresor_public",
            "received_on": clock.today().isoformat(),
        },
        headers=finance,
    )
    assert over.status == 422 and (await over.json())["type"].endswith("/allocation-refused")
    malformed = await portal.billing.post(
        "/payments",
        json={
            "family_id": family,
            "amount_cents": "12,5",
            "method": "cheque",
            "received_on": clock.today().isoformat(),
        },
        headers=finance,
    )
    assert malformed.status == 422
    part = await portal.billing.post(
        "/payments",
        json={
            "family_id": family,
            "amount_cents": 1000,
            "method": "cheque",
            "reference": "CHQ 42",
            "received_on": clock.today().isoformat(),
            "allocations": [{"invoice_id": invoice["id"], "amount_cents": 1000}],
        },
        headers=finance,
    )
    assert part.status == 201, await part.text()
    payment = await part.json()
    retried = await portal.billing.post(
        "/payments",
        json={
            "family_id": family,
            "amount_cents": 1000,
            "method": "cheque",
            "reference": "CHQ 42",
            "received_on": clock.today().isoformat(),
            "allocations": [{"invoice_id": invoice["id"], "amount_cents": 1000}],
        },
        headers=finance,
    )
    assert retried.status == 200 and (await retried.json())["id"] == payment["id"]
    assert payment["receipt_number"].startswith("R")
    now = (await portal.invoices(family))["items"][0]
    assert (now["state"], now["balance_cents"]) == ("partially_paid", 1400)

    receipt = await portal.billing.get(
        f"/payments/{payment['id']}/receipt", headers=portal.parent(family)
    )
    text = PdfReader(io.BytesIO(await receipt.read())).pages[0].extract_text()
    assert payment["receipt_number"] in text and "10,00 €" in text and invoice["number"] in text

    rest = await portal.billing.post(
        "/payments",
        json={
            "family_id": family,
            "amount_cents": 1400,
            "method": "tresor_public",
            "received_on": clock.today().isoformat(),
        },
        headers=finance,
    )
    assert rest.status == 201
    statement = await (
        await portal.billing.get(f"/families/{family}/statement", headers=portal.staff)
    ).json()
    assert [e["balance_cents"] for e in statement["entries"]] == [2400, 1400, 0]
    assert (await portal.invoices(family))["items"][0]["state"] == "paid"
    assert await received_events(portal) == 2

    csv = await (await portal.billing.get("/exports/payments.csv", headers=portal.staff)).text()
    assert csv.startswith("\ufeffrecu;date;") and "CHQ 42" in csv and ";10,00" in csv


async def test_an_issued_invoice_is_credited_and_reissued_never_edited(portal: Portal) -> None:
    family, invoice = await issued_invoice(portal)
    response = await portal.billing.post(
        f"/invoices/{invoice['id']}/credit",
        json={
            "reason": "Journée du 03/03 annulée par la structure",
            "reissue": True,
            "remove_line_days": ["2026-03-03"],
        },
        headers=portal.staff,
    )
    assert response.status == 200, await response.text()
    result = await response.json()
    assert result["cancelled"]["state"] == "cancelled"
    assert result["credit_note"]["number"].startswith("A")
    assert result["credit_note"]["amount_cents"] == 2400
    assert result["reissued"]["amount_cents"] == 1200
    assert result["reissued"]["replaces_invoice_id"] == invoice["id"]
    note_pdf = await portal.billing.get(
        f"/families/{family}/invoices/{result['credit_note']['id']}/pdf",
        headers=portal.parent(family),
    )
    text = PdfReader(io.BytesIO(await note_pdf.read())).pages[0].extract_text()
    assert "AVOIR" in text and invoice["number"] in text and "annulée par la structure" in text
    to_pay = await portal.invoices(family, state="to_pay")
    assert [i["number"] for i in to_pay["items"]] == [result["reissued"]["number"]]
    again = await portal.billing.post(
        f"/invoices/{invoice['id']}/credit", json={"reason": "encore"}, headers=portal.staff
    )
    assert again.status == 409
    csv = await (
        await portal.billing.get(
            "/exports/invoices.csv", params={"month": "2026-03"}, headers=portal.staff
        )
    ).text()
    assert csv.count("\r\n") == 4  # header, invoice, credit note, reissued invoice
