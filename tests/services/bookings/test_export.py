"""The RGPD export of bookings: the family's registrations, reservations (with attendance)
and calendar links, and nothing of another family."""

from __future__ import annotations

import json
from typing import Any

from services.kit.testing import TestSigner

from .conftest import ContractStandIn
from .factories import staff
from .planning import as_parent, book, save, setup_reservations

WED, THU = "2027-04-21", "2027-04-22"


async def test_the_export_holds_the_familys_bookings_and_nothing_of_another(
    bookings: Any, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    setup = await setup_reservations(bookings, signer, stand_in, children=2)
    (mine, my_child), (theirs, their_child) = setup.children
    status, body = await save(bookings, signer, mine, [book(my_child, setup.opening(WED))])
    assert status == 200, body
    my_reservation = body["results"][0]["reservation_id"]
    status, body = await save(bookings, signer, theirs, [book(their_child, setup.opening(THU))])
    assert status == 200, body
    marked = await bookings.post(
        "/attendance",
        json={"marks": [{"reservation_id": my_reservation, "attendance": "present"}]},
        headers=staff(signer),
    )
    assert (await marked.json())["results"][0]["ok"], await marked.text()
    feed = await bookings.post(
        f"/families/{mine}/persons/{my_child}/calendar-feed", headers=as_parent(signer, mine)
    )
    feed_path = (await feed.json())["path"]

    response = await bookings.get(f"/families/{mine}/export", headers=as_parent(signer, mine))

    assert response.status == 200, await response.text()
    assert "attachment" in response.headers["Content-Disposition"]
    export = await response.json()
    assert export["service"] == "bookings" and export["family_id"] == mine
    assert [r["person_id"] for r in export["registrations"]] == [my_child]
    assert export["registrations"][0]["activity_name"] == setup.activity["name"]
    [reservation] = export["reservations"]
    assert reservation["id"] == my_reservation and reservation["day"] == WED
    assert reservation["attendance"] == "present"
    assert [f["person_id"] for f in export["calendar_feeds"]] == [my_child]
    text = json.dumps(export)
    token = feed_path.rsplit("/", 1)[-1].removesuffix(".ics")
    for foreign in (theirs, their_child, THU, token):
        assert foreign not in text


async def test_staff_export_any_family_and_a_parent_of_another_gets_404(
    bookings: Any, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    setup = await setup_reservations(bookings, signer, stand_in, children=2)
    (mine, my_child), (theirs, _) = setup.children

    foreign = await bookings.get(f"/families/{theirs}/export", headers=as_parent(signer, mine))
    assert foreign.status == 404
    assert foreign.content_type == "application/problem+json"
    anonymous = await bookings.get(f"/families/{mine}/export")
    assert anonymous.status == 401
    by_staff = await bookings.get(f"/families/{mine}/export", headers=staff(signer))
    assert by_staff.status == 200
    assert [r["person_id"] for r in (await by_staff.json())["registrations"]] == [my_child]
