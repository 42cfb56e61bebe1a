"""A month's run from reservations made in the real bookings service (its own tests'
set-up: activity, openings, registered children, reservations by the parents, attendance
taken by staff), read by billing through `GET /api/bookings/billable-lines`.

The families' records (QF, postal code) come from a small stand-in here: the children's
family ids are made by bookings' set-up, not by the families service.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from services.kit.testing import TestSigner
from tests.services.bookings.conftest import (  # noqa: F401 (bookings' own fixtures)
    bookings,
    bookings_app,
    clock,
    stand_in,
)
from tests.services.bookings.factories import staff
from tests.services.bookings.planning import book, save, setup_reservations

from .conftest import Portal, point_at

TUE, WED, THU = "2027-04-20", "2027-04-21", "2027-04-22"


async def test_a_run_from_real_reservations_matches_the_hand_computed_totals(
    portal: Portal,
    bookings: Any,  # noqa: F811 (the fixture imported above)
    stand_in: Any,  # noqa: F811
    signer: TestSigner,
    upstream: Any,
) -> None:
    setup = await setup_reservations(bookings, signer, stand_in, children=2)
    (first, lea), (second, tom) = setup.children
    reserved: dict[tuple[str, str], str] = {}
    for family_id, person_id, days in ((first, lea, (TUE, WED, THU)), (second, tom, (WED,))):
        status, body = await save(
            bookings, signer, family_id, [book(person_id, setup.opening(d)) for d in days]
        )
        assert status == 200, body
        for day, result in zip(days, body["results"], strict=True):
            assert result["state"] == "confirmed", result
            reserved[(person_id, day)] = result["reservation_id"]
    marked = await bookings.post(
        "/attendance",
        json={"marks": [
            {"reservation_id": reserved[(lea, TUE)], "attendance": "present"},
            {"reservation_id": reserved[(lea, WED)], "attendance": "absent_justified"},
            {"reservation_id": reserved[(tom, WED)], "attendance": "absent_unjustified"},
        ]},
        headers=staff(signer),
    )  # fmt: skip
    assert all(r["ok"] for r in (await marked.json())["results"]), await marked.text()

    # Billing reads bookings through a gateway: bookings proxied as it is, families stood in.
    records = {
        first: {"id": first, "name": "PREMIERE", "postal_code": "64240", "quotient": 400},
        second: {"id": second, "name": "SECONDE", "postal_code": "64240", "quotient": None},
    }
    bookings_url = str(bookings.make_url("")).rstrip("/")

    async def lines(request: web.Request) -> web.Response:
        async with bookings.session.get(
            f"{bookings_url}/billable-lines",
            params=request.query,
            headers={"Authorization": request.headers["Authorization"]},
        ) as answer:
            return web.Response(body=await answer.read(), status=answer.status,
                                content_type="application/json")  # fmt: skip

    async def family(request: web.Request) -> web.Response:
        record = records.get(request.match_info["family_id"])
        return web.json_response(record or {"detail": "no"}, status=200 if record else 404)

    app = web.Application()
    app.router.add_get("/api/bookings/billable-lines", lines)
    app.router.add_get("/api/families/families/{family_id}", family)
    gateway = await upstream(app)
    point_at(portal.billing, gateway_url=gateway.url)
    activity = {"activity_id": setup.activity["id"], "activity_name": setup.activity["name"]}
    await portal.tariff(
        **activity, unit="journee", valid_from="2027-01-01", mode="brackets",
        brackets=[{"qf_min": 0, "qf_max": 500, "price_cents": 800},
                  {"qf_min": 501, "price_cents": 1800}],
    )  # fmt: skip

    run = await portal.preview("2027-04")
    # PREMIERE (QF 400): present 8.00 + reserved (no attendance yet) 8.00, justified absence
    # not billed → 16.00. SECONDE (no QF → highest bracket): unjustified absence billed 18.00.
    totals = {i["family_name"]: i["amount_cents"] for i in run["invoices"]}
    assert totals == {"PREMIERE": 1600, "SECONDE": 1800}
    premiere = next(i for i in run["invoices"] if i["family_name"] == "PREMIERE")
    assert [(x["day"], x["attendance"]) for x in premiere["lines"]] == [
        (TUE, "present"), (THU, "reserved"),
    ]  # fmt: skip
    published = await portal.publish(run["id"])
    assert published["invoice_count"] == 2 and published["total_cents"] == 3400
