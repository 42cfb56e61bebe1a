"""Capacity under concurrency, the waiting list, notice deadlines, access and billing's lines."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from services.kit.keys import DATABASE
from services.kit.testing import TestSigner

from .conftest import ContractStandIn, FrozenClock
from .factories import staff
from .planning import as_parent, book, cancel, save, setup_reservations

WED = "2027-04-21"
PLACES, RUSH = 20, 200


async def _counts(client: Any, opening_id: str) -> tuple[int, int]:
    async with client.app[DATABASE].sessions() as session:
        booked = await session.scalar(
            text("SELECT booked FROM openings WHERE id = :o"), {"o": opening_id}
        )
        confirmed = await session.scalar(
            text("SELECT count(*) FROM reservations WHERE opening_id = :o AND state = 'confirmed'"),
            {"o": opening_id},
        )
    return int(booked), int(confirmed)


async def test_two_hundred_concurrent_requests_for_twenty_places_confirm_exactly_twenty(
    bookings: Any, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    setup = await setup_reservations(bookings, signer, stand_in, capacity=PLACES, children=RUSH)
    opening = setup.opening(WED)
    results = await asyncio.gather(
        *(save(bookings, signer, f, [book(p, opening)]) for f, p in setup.children)
    )
    assert Counter(status for status, _ in results) == {200: RUSH}
    outcome = Counter(body["results"][0].get("code") or "ok" for _, body in results)
    assert outcome == {"ok": PLACES, "full": RUSH - PLACES}, outcome
    assert all(
        body["results"][0]["reason"].startswith("complet")
        for _, body in results
        if not body["results"][0]["ok"]
    )
    assert await _counts(bookings, opening) == (PLACES, PLACES)


async def test_a_freed_place_goes_to_the_first_waiting_request_and_the_family_is_told(
    bookings: Any, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    setup = await setup_reservations(
        bookings, signer, stand_in, capacity=1, children=3, waiting_list=True
    )
    opening = setup.opening(WED)
    (f1, p1), (_f2, p2), (_f3, p3) = setup.children
    labels = []
    for family_id, person_id in setup.children:
        _, body = await save(bookings, signer, family_id, [book(person_id, opening)])
        labels.append(body["results"][0]["state"])
    assert labels == ["confirmed", "waiting", "waiting"]
    _, body = await save(bookings, signer, f1, [cancel(p1, opening)])
    assert body["results"][0]["state"] == "cancelled"
    async with bookings.app[DATABASE].sessions() as session:
        states = dict(
            (
                await session.execute(
                    text("SELECT person_id, state FROM reservations WHERE opening_id = :o"),
                    {"o": opening},
                )
            ).all()
        )
        promoted = await session.scalar(
            text(
                "SELECT count(*) FROM outbox_messages WHERE event_type = 'reservation.promoted' "
                "AND message->'data'->>'person_id' = :p"
            ),
            {"p": p2},
        )
    assert states == {p1: "cancelled", p2: "confirmed", p3: "waiting"}
    assert promoted == 1
    assert await _counts(bookings, opening) == (1, 1)


# Tuesday 2027-04-20 10:00 Paris (CEST, UTC+2) is 08:00 UTC: the deadline of Wednesday the
# 21st under "the previous working day at 10:00" (and of Thursday 22nd under two days).
RULE = {"kind": "days_before", "days": 1, "at": "10:00", "skip_weekends_and_holidays": True}


@pytest.mark.parametrize(
    ("now", "day", "allowed"),
    [
        (datetime(2027, 4, 20, 7, 59, tzinfo=UTC), "2027-04-21", True),  # the minute before
        (datetime(2027, 4, 20, 8, 0, tzinfo=UTC), "2027-04-21", False),  # the deadline minute
        # Monday 26th: the previous working day is Friday 23rd (the week-end is skipped).
        (datetime(2027, 4, 23, 7, 59, tzinfo=UTC), "2027-04-26", True),
        (datetime(2027, 4, 24, 9, 0, tzinfo=UTC), "2027-04-26", False),
    ],
)
async def test_notice_rules_are_enforced_on_the_server_at_the_minute(
    bookings: Any,
    signer: TestSigner,
    stand_in: ContractStandIn,
    clock: FrozenClock,
    now: datetime,
    day: str,
    allowed: bool,
) -> None:
    setup = await setup_reservations(bookings, signer, stand_in, add_notice=RULE)
    family_id, child = setup.children[0]
    clock.now = now
    _, body = await save(bookings, signer, family_id, [book(child, setup.opening(day))])
    result = body["results"][0]
    assert result["ok"] is allowed, result
    if not allowed:
        assert result["code"] == "past-deadline"
        assert "hors délai" in result["reason"] and "à 10:00" in result["reason"]


async def test_a_holiday_is_skipped_when_counting_working_days(
    bookings: Any, signer: TestSigner, stand_in: ContractStandIn, clock: FrozenClock
) -> None:
    # Ascension 2027 is Thursday 6 May: for Friday 7 May, two working days before is
    # Tuesday 4 May (Wednesday 5, then Tuesday 4), at 10:00 Paris = 08:00 UTC.
    may = {
        "starts_on": "2027-05-03", "ends_on": "2027-05-14",
        "registration_opens_at": "2027-03-29T00:00:00",
        "registration_closes_at": "2027-05-01T00:00:00",
    }  # fmt: skip
    rule = {**RULE, "days": 2}
    setup = await setup_reservations(bookings, signer, stand_in, add_notice=rule, period=may)
    assert ("2027-05-06", "journee") not in setup.openings  # no opening on the holiday
    family_id, child = setup.children[0]
    clock.now = datetime(2027, 5, 4, 8, 0, tzinfo=UTC)
    _, body = await save(bookings, signer, family_id, [book(child, setup.opening("2027-05-07"))])
    assert body["results"][0]["code"] == "past-deadline", body
    clock.now = datetime(2027, 5, 4, 7, 59, tzinfo=UTC)
    _, body = await save(bookings, signer, family_id, [book(child, setup.opening("2027-05-07"))])
    assert body["results"][0]["ok"], body


async def test_cancelling_follows_its_own_rule(
    bookings: Any, signer: TestSigner, stand_in: ContractStandIn, clock: FrozenClock
) -> None:
    rule = {"kind": "weekday_before", "weekday": 0, "at": "12:00"}  # the Monday before, noon
    setup = await setup_reservations(bookings, signer, stand_in, cancel_notice=rule)
    family_id, child = setup.children[0]
    opening = setup.opening(WED)
    _, body = await save(bookings, signer, family_id, [book(child, opening)])
    assert body["results"][0]["ok"]
    clock.now = datetime(2027, 4, 19, 10, 0, tzinfo=UTC)  # Monday 19th, 12:00 Paris
    _, body = await save(bookings, signer, family_id, [cancel(child, opening)])
    assert body["results"][0]["code"] == "past-deadline"
    assert "lundi 19 avril 2027 à 12:00" in body["results"][0]["reason"]


async def test_no_access_to_another_familys_planning_and_no_staff_route_for_parents(
    bookings: Any, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    setup = await setup_reservations(bookings, signer, stand_in, children=2)
    (fa, _pa), (fb, pb) = setup.children
    mine = as_parent(signer, fa)
    foreign = [
        ("GET", f"/families/{fb}/persons/{pb}/planning", None),
        ("POST", f"/families/{fb}/reservations/changes",
         {"changes": [book(pb, setup.opening(WED))]}),
        ("GET", f"/families/{fb}/reservations", None),
        ("POST", f"/families/{fb}/persons/{pb}/calendar-feed", None),
        ("POST", f"/families/{fb}/reservations/repeat",
         {"person_id": pb, "week_of": WED, "until": "2027-04-30"}),
    ]  # fmt: skip
    for method, path, body in foreign:
        response = await bookings.request(method, path, json=body, headers=mine)
        assert response.status == 404, (path, response.status)
        anonymous = await bookings.request(method, path, json=body)
        assert anonymous.status == 401, path
    # Family A's own path naming family B's child: no calendar link of a child not theirs.
    crossed = await bookings.post(f"/families/{fa}/persons/{pb}/calendar-feed", headers=mine)
    assert crossed.status == 404, await crossed.text()
    # Family A naming family B's child in its own save: refused, nothing booked.
    _, body = await save(bookings, signer, fa, [book(pb, setup.opening(WED))])
    assert body["results"][0]["code"] == "not-registered"
    staff_routes = [
        ("GET", "/reservations", None),
        ("GET", "/roster", None),
        ("POST", "/attendance", {"marks": [{"reservation_id": "x", "attendance": "present"}]}),
        ("POST", "/reservations/decisions",
         {"decisions": [{"reservation_id": "x", "decision": "accept"}]}),
        ("POST", f"/activities/{setup.activity['id']}/closure-cancellations",
         {"day": WED, "reason": "grève"}),
        ("GET", "/billable-lines?month=2027-04", None),
    ]  # fmt: skip
    for method, path, body in staff_routes:
        response = await bookings.request(method, path, json=body, headers=mine)
        assert response.status == 403, (path, response.status)


async def test_staff_take_attendance_and_billing_reads_the_months_lines(
    bookings: Any, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    setup = await setup_reservations(bookings, signer, stand_in, children=3, validation="manual")
    opening = setup.opening(WED)
    ids = []
    for family_id, person_id in setup.children:
        _, body = await save(bookings, signer, family_id, [book(person_id, opening)])
        assert body["results"][0]["state"] == "requested", body
        ids.append(body["results"][0]["reservation_id"])
    decided = await bookings.post(
        "/reservations/decisions",
        json={"decisions": [
            {"reservation_id": ids[0], "decision": "accept"},
            {"reservation_id": ids[1], "decision": "accept"},
            {"reservation_id": ids[2], "decision": "refuse", "reason": "groupe complet"},
        ]},
        headers=staff(signer),
    )  # fmt: skip
    assert [r["state"] for r in (await decided.json())["results"]] == [
        "confirmed", "confirmed", "refused",
    ]  # fmt: skip
    marked = await bookings.post(
        "/attendance",
        json={"marks": [{"reservation_id": ids[0], "attendance": "present"},
                        {"reservation_id": ids[2], "attendance": "present"}]},
        headers=staff(signer),
    )  # fmt: skip
    assert [r["ok"] for r in (await marked.json())["results"]] == [True, False]
    roster = await (
        await bookings.get(
            "/roster", params={"activity_id": setup.activity["id"], "day": WED},
            headers=staff(signer),
        )
    ).json()  # fmt: skip
    journee = next(o for o in roster["openings"] if o["opening_id"] == opening)
    assert journee["booked"] == 2 and len(journee["booked_persons"]) == 2
    billing = signer.headers(role="service", subject="billing", scopes=["billing:read"])
    lines = await (await bookings.get("/billable-lines?month=2027-04", headers=billing)).json()
    mine = [x for x in lines["items"] if x["activity_id"] == setup.activity["id"]]
    assert sorted(x["state"] for x in mine) == ["present", "reserved"]
    assert set(mine[0]) == {
        "family_id", "person_id", "person_name", "activity_id", "activity_name", "unit",
        "date", "state",
    }  # fmt: skip
    assert mine[0]["unit"] == "journee" and mine[0]["date"] == WED
    for month in ("2027-13", "9999-12", "0000-01", "٢٠٢٧-04"):  # 9999-12 and 0000 were 500s
        bad = await bookings.get(f"/billable-lines?month={month}", headers=billing)
        assert bad.status == 422, month


async def test_a_closure_cancels_the_day_and_tells_each_family(
    bookings: Any, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    setup = await setup_reservations(bookings, signer, stand_in, children=2)
    for family_id, person_id in setup.children:
        await save(bookings, signer, family_id, [book(person_id, setup.opening(WED))])
    closed = await bookings.post(
        f"/activities/{setup.activity['id']}/closure-cancellations",
        json={"day": WED, "reason": "grève"},
        headers=staff(signer),
    )
    result = await closed.json()
    assert closed.status == 200 and result["cancelled"] == 2, result
    family_id, person_id = setup.children[0]
    _, body = await save(bookings, signer, family_id, [book(person_id, setup.opening(WED))])
    assert body["results"][0]["code"] == "closed"
    assert await _counts(bookings, setup.opening(WED)) == (0, 0)


async def test_the_calendar_link_serves_confirmed_days_until_revoked(
    bookings: Any, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    setup = await setup_reservations(bookings, signer, stand_in)
    family_id, child = setup.children[0]
    await save(bookings, signer, family_id, [book(child, setup.opening(WED))])
    made = await bookings.post(
        f"/families/{family_id}/persons/{child}/calendar-feed",
        headers=as_parent(signer, family_id),
    )
    path = (await made.json())["path"].removeprefix("/api/bookings")
    feed = await bookings.get(path)
    text_ = await feed.text()
    assert feed.status == 200 and "BEGIN:VEVENT" in text_ and "DTSTART:20270421T063000Z" in text_
    await bookings.delete(
        f"/families/{family_id}/persons/{child}/calendar-feed",
        headers=as_parent(signer, family_id),
    )
    assert (await bookings.get(path)).status == 404
