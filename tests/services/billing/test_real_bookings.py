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

    # Billing reads bookings through a gateway (see _gateway), families stood in.
    records = {
        first: {"id": first, "name": "PREMIERE", "postal_code": "64240", "quotient": 400},
        second: {"id": second, "name": "SECONDE", "postal_code": "64240", "quotient": None},
    }
    await _gateway(portal, bookings, upstream, records, only={first, second})
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


async def test_a_day_closed_after_the_preview_stops_its_publication(
    portal: Portal,
    bookings: Any,  # noqa: F811 (the fixture imported above)
    stand_in: Any,  # noqa: F811
    signer: TestSigner,
    upstream: Any,
) -> None:
    setup = await setup_reservations(bookings, signer, stand_in, children=1)
    ((family_id, lea),) = setup.children
    status, body = await save(
        bookings, signer, family_id, [book(lea, setup.opening(d)) for d in (TUE, WED, THU)]
    )
    assert status == 200 and all(r["state"] == "confirmed" for r in body["results"]), body
    records = {family_id: {"id": family_id, "name": "PREMIERE", "postal_code": "64240",
                           "quotient": 400}}  # fmt: skip
    await _gateway(portal, bookings, upstream, records, only={family_id})
    await portal.tariff(
        activity_id=setup.activity["id"], activity_name=setup.activity["name"],
        unit="journee", valid_from="2027-01-01", mode="brackets",
        brackets=[{"qf_min": 0, "price_cents": 800}],
    )  # fmt: skip
    run = await portal.preview("2027-04")
    assert _days(run, family_id) == [TUE, WED, THU]

    # Staff close Wednesday (strike): bookings cancels its reservations.
    closed = await bookings.post(
        f"/activities/{setup.activity['id']}/closure-cancellations",
        json={"day": WED, "reason": "grève"},
        headers=staff(signer),
    )
    assert closed.status == 200, await closed.text()

    refused = await portal.billing.post(f"/runs/{run['id']}/publish", headers=portal.staff)
    assert refused.status == 409, await refused.text()
    problem = await refused.json()
    assert refused.content_type == "application/problem+json"
    assert problem["detail"] == (
        "Les réservations du mois ont changé depuis l'aperçu : refaites l'aperçu."
    )
    assert (await portal.invoices(family_id))["items"] == []  # nothing issued

    again = await portal.preview("2027-04")
    assert _days(again, family_id) == [TUE, THU]
    await portal.publish(again["id"])
    (invoice,) = (await portal.invoices(family_id))["items"]
    assert invoice["amount_cents"] == 1600


def _days(run: dict[str, Any], family_id: str) -> list[str]:
    (draft,) = [i for i in run["invoices"] if i["family_id"] == family_id]
    return [x["day"] for x in draft["lines"]]


async def _gateway(
    portal: Portal,
    bookings: Any,  # noqa: F811 (a parameter, not the fixture)
    upstream: Any,
    records: dict[str, dict[str, Any]],
    *,
    only: set[str],
) -> None:
    """Billing's gateway: bookings proxied, keeping the lines of the families `only` (bookings'
    database keeps other tests' reservations of the month), families stood in by `records`."""
    bookings_url = str(bookings.make_url("")).rstrip("/")

    async def lines(request: web.Request) -> web.Response:
        async with bookings.session.get(
            f"{bookings_url}/billable-lines",
            params=request.query,
            headers={"Authorization": request.headers["Authorization"]},
        ) as answer:
            assert answer.status == 200, await answer.text()
            data = await answer.json()
        data["items"] = [x for x in data["items"] if x["family_id"] in only]
        return web.json_response(data)

    async def family(request: web.Request) -> web.Response:
        record = records.get(request.match_info["family_id"])
        return web.json_response(record or {"detail": "no"}, status=200 if record else 404)

    app = web.Application()
    app.router.add_get("/api/bookings/billable-lines", lines)
    app.router.add_get("/api/families/families/{family_id}", family)
    gateway = await upstream(app)
    point_at(portal.billing, gateway_url=gateway.url)
