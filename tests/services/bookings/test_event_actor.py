"""Bookings' events say who acted: `by` (the token's subject) and `by_role`, as documents'.

The family's « Historique de mes actions » has a « Par » column; bookings' lines had none,
their events naming nobody. Through the real bookings service (PostgreSQL outbox)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from services.bookings.models import OutboxMessage
from services.kit.keys import DATABASE
from services.kit.testing import TestSigner

from .conftest import ContractStandIn
from .factories import catalogue, parent, staff
from .planning import book, cancel, save, setup_reservations
from .test_registrations import family_and_child, request

WED_1, WED_2, THU_1 = "2027-04-21", "2027-04-28", "2027-04-22"
AGENT = "agent-1"  # factories.staff's subject


async def actors(client: Any, **data: str) -> list[tuple[str, str | None, str | None]]:
    """(event type, by, by_role) of the outbox's events whose data holds `data`, oldest first."""
    async with client.app[DATABASE].sessions() as session:
        rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.occurred_at))
        return [
            (m["type"], m["data"].get("by"), m["data"].get("by_role"))
            for m in (r.message for r in rows)
            if all(m["data"].get(k) == v for k, v in data.items())
        ]


async def test_registration_events_name_the_parent_the_agent_or_the_automatic_validation(
    bookings: Any, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    activity, period = await catalogue(bookings, signer)
    family_id, person_id = family_and_child(stand_in)
    body = {"person_id": person_id, "activity_id": activity["id"], "period_id": period["id"]}
    asked = await (await request(bookings, signer, family_id, body)).json()
    accepted = await bookings.post(f"/registrations/{asked['id']}/accept", headers=staff(signer))
    assert accepted.status == 200, await accepted.text()
    cancelled = await bookings.post(
        f"/families/{family_id}/registrations/{asked['id']}/cancel",
        headers=parent(signer, family_id),
    )
    assert cancelled.status == 200, await cancelled.text()
    again = await (await request(bookings, signer, family_id, body)).json()
    refused = await bookings.post(
        "/registrations/decisions",
        json={"decisions": [{"registration_id": again["id"], "decision": "refuse",
                             "reason": "Dossier incomplet"}]},
        headers=staff(signer),
    )  # fmt: skip
    assert refused.status == 200, await refused.text()

    the_parent = f"parent-{family_id}"
    assert await actors(bookings, registration_id=asked["id"]) == [
        ("registration.requested", the_parent, "family"),
        ("registration.accepted", AGENT, "staff"),
        ("registration.cancelled", the_parent, "family"),
    ]
    assert await actors(bookings, registration_id=again["id"]) == [
        ("registration.requested", the_parent, "family"),
        ("registration.refused", AGENT, "staff"),
    ]

    # Nobody decides an automatic validation: the structure's software, no account.
    automatic, automatic_period = await catalogue(bookings, signer, validation="automatic")
    other_family, other_child = family_and_child(stand_in)
    body = {"person_id": other_child, "activity_id": automatic["id"],
            "period_id": automatic_period["id"]}  # fmt: skip
    at_once = await (await request(bookings, signer, other_family, body)).json()
    assert await actors(bookings, registration_id=at_once["id"]) == [
        ("registration.requested", f"parent-{other_family}", "family"),
        ("registration.accepted", None, "service"),
    ]


async def test_reservation_events_name_who_saved_or_decided(
    bookings: Any, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    setup = await setup_reservations(bookings, signer, stand_in, children=2, validation="manual")
    (family_id, child), (other_family, other_child) = setup.children
    status, saved = await save(
        bookings, signer, family_id,
        [book(child, setup.opening(WED_1)), book(child, setup.opening(WED_2))],
    )  # fmt: skip
    assert status == 200, saved
    first, second = (r["reservation_id"] for r in saved["results"])
    _, other = await save(bookings, signer, other_family, [book(other_child, setup.opening(WED_1))])
    third = other["results"][0]["reservation_id"]
    decided = await bookings.post(
        "/reservations/decisions",
        json={"decisions": [{"reservation_id": first, "decision": "accept"},
                            {"reservation_id": third, "decision": "refuse", "reason": "complet"}]},
        headers=staff(signer),
    )  # fmt: skip
    assert decided.status == 200, await decided.text()
    status, _ = await save(bookings, signer, family_id, [cancel(child, setup.opening(WED_2))])
    assert status == 200
    _, booked = await save(bookings, signer, family_id, [book(child, setup.opening(THU_1))])
    fourth = booked["results"][0]["reservation_id"]
    closed = await bookings.post(
        f"/activities/{setup.activity['id']}/closure-cancellations",
        json={"day": THU_1, "reason": "grève"},
        headers=staff(signer),
    )
    assert closed.status == 200, await closed.text()

    the_parent = f"parent-{family_id}"
    assert await actors(bookings, reservation_id=first) == [
        ("reservation.requested", the_parent, "family"),
        ("reservation.confirmed", AGENT, "staff"),
    ]
    assert await actors(bookings, reservation_id=second) == [
        ("reservation.requested", the_parent, "family"),
        ("reservation.cancelled", the_parent, "family"),
    ]
    assert await actors(bookings, reservation_id=third) == [
        ("reservation.requested", f"parent-{other_family}", "family"),
        ("reservation.refused", AGENT, "staff"),
    ]
    assert await actors(bookings, reservation_id=fourth) == [
        ("reservation.requested", the_parent, "family"),
        ("reservation.cancelled", AGENT, "staff"),  # the day closed by an agent
    ]


async def test_a_freed_place_given_to_a_waiting_request_names_the_structures_software(
    bookings: Any, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    # Nobody decides who takes a freed place: the first waiting request does, by rule.
    setup = await setup_reservations(
        bookings, signer, stand_in, capacity=1, children=2, waiting_list=True
    )
    (first_family, first_child), (waiting_family, waiting_child) = setup.children
    opening = setup.opening(WED_1)
    status, _ = await save(bookings, signer, first_family, [book(first_child, opening)])
    assert status == 200
    _, waits = await save(bookings, signer, waiting_family, [book(waiting_child, opening)])
    assert waits["results"][0]["state"] == "waiting", waits
    status, _ = await save(bookings, signer, first_family, [cancel(first_child, opening)])
    assert status == 200

    assert await actors(bookings, reservation_id=waits["results"][0]["reservation_id"]) == [
        ("reservation.waitlisted", f"parent-{waiting_family}", "family"),
        ("reservation.promoted", None, "service"),
    ]
