"""No cross-family access: foreign ids answer like missing ones, parents stay off staff routes."""

from __future__ import annotations

import uuid

import pytest

from services.kit.testing import TestSigner

from .conftest import ContractStandIn
from .factories import catalogue, parent, staff


@pytest.fixture
async def two_families(bookings, signer: TestSigner, stand_in: ContractStandIn):
    """Family A and family B, B with a registration."""
    activity, period = await catalogue(bookings, signer)
    family_a, family_b = str(uuid.uuid4()), str(uuid.uuid4())
    child_a, child_b = str(uuid.uuid4()), str(uuid.uuid4())
    stand_in.add_person(family_a, child_a, birth_date="2019-01-01")
    stand_in.add_person(family_b, child_b, birth_date="2019-01-01")
    created = await bookings.post(
        f"/families/{family_b}/registrations",
        json={"person_id": child_b, "activity_id": activity["id"], "period_id": period["id"]},
        headers=parent(signer, family_b),
    )
    assert created.status == 201
    registration_b = (await created.json())["id"]
    return {
        "activity": activity,
        "period": period,
        "a": family_a,
        "b": family_b,
        "child_a": child_a,
        "child_b": child_b,
        "registration_b": registration_b,
    }


def family_routes(w: dict, family: str, registration: str) -> list[tuple[str, str, dict | None]]:
    body = {
        "person_id": w["child_b"],
        "activity_id": w["activity"]["id"],
        "period_id": w["period"]["id"],
    }
    return [
        ("GET", f"/families/{family}/registrations", None),
        ("POST", f"/families/{family}/registrations", body),
        ("GET", f"/families/{family}/registrations/{registration}", None),
        ("POST", f"/families/{family}/registrations/{registration}/cancel", None),
        ("GET", f"/dashboard/{family}", None),
    ]


async def test_family_a_cannot_reach_family_b_and_it_looks_like_nothing_exists(
    bookings, signer: TestSigner, two_families: dict
) -> None:
    w = two_families
    as_a = parent(signer, w["a"])
    for method, path, body in family_routes(w, w["b"], w["registration_b"]):
        foreign = await bookings.request(method, path, json=body, headers=as_a)
        missing_path = path.replace(w["b"], str(uuid.uuid4())).replace(
            w["registration_b"], str(uuid.uuid4())
        )
        missing = await bookings.request(method, missing_path, json=body, headers=as_a)
        assert foreign.status == missing.status == 404, (method, path)
        assert (await foreign.json())["detail"] == (await missing.json())["detail"]
    # A's own route with B's registration id: not found either.
    via_own = await bookings.get(
        f"/families/{w['a']}/registrations/{w['registration_b']}", headers=as_a
    )
    assert via_own.status == 404
    cancel_via_own = await bookings.post(
        f"/families/{w['a']}/registrations/{w['registration_b']}/cancel", headers=as_a
    )
    assert cancel_via_own.status == 404
    # B's registration is untouched.
    still = await bookings.get(
        f"/families/{w['b']}/registrations/{w['registration_b']}", headers=parent(signer, w["b"])
    )
    assert (await still.json())["state"] == "requested"


async def test_anonymous_callers_get_401_everywhere(bookings, two_families: dict) -> None:
    w = two_families
    paths = (
        [(m, p, b) for m, p, b in family_routes(w, w["b"], w["registration_b"])]
        + [(m, p, None) for m, p in staff_routes(w)]
        + [("GET", "/catalogue", None), ("GET", "/activities", None), ("GET", "/openings", None)]
    )
    for method, path, body in paths:
        response = await bookings.request(method, path, json=body)
        assert response.status == 401, (method, path)


def staff_routes(w: dict) -> list[tuple[str, str]]:
    return [
        ("GET", "/registrations"),
        ("POST", f"/registrations/{w['registration_b']}/accept"),
        ("POST", f"/registrations/{w['registration_b']}/refuse"),
        ("POST", "/registrations/decisions"),
        ("POST", "/activities"),
        ("PATCH", f"/activities/{w['activity']['id']}"),
        ("POST", f"/activities/{w['activity']['id']}/groups"),
        ("POST", f"/activities/{w['activity']['id']}/units"),
        ("POST", f"/activities/{w['activity']['id']}/periods"),
        ("POST", f"/activities/{w['activity']['id']}/closures"),
        ("PATCH", f"/periods/{w['period']['id']}"),
        ("POST", f"/periods/{w['period']['id']}/openings"),
        ("PATCH", f"/groups/{w['activity']['groups'][0]['id']}"),
        ("PATCH", "/openings/any"),
        ("PATCH", f"/units/{w['activity']['units'][0]['id']}"),
    ]


async def test_parents_and_unscoped_systems_get_403_on_staff_routes(
    bookings, signer: TestSigner, two_families: dict
) -> None:
    w = two_families
    callers = [
        parent(signer, w["b"]),
        signer.headers(role="service", scopes=["families:read"]),
    ]
    for headers in callers:
        for method, path in staff_routes(w):
            response = await bookings.request(method, path, json={}, headers=headers)
            assert response.status == 403, (method, path, headers)
    still = await bookings.get(
        f"/families/{w['b']}/registrations/{w['registration_b']}", headers=parent(signer, w["b"])
    )
    assert (await still.json())["state"] == "requested"


async def test_a_read_only_system_reads_but_does_not_decide(
    bookings, signer: TestSigner, two_families: dict
) -> None:
    w = two_families
    reader = signer.headers(role="service", scopes=["bookings:read"])
    assert (await bookings.get("/registrations", headers=reader)).status == 200
    assert (await bookings.get("/activities", headers=reader)).status == 200
    decided = await bookings.post(f"/registrations/{w['registration_b']}/accept", headers=reader)
    assert decided.status == 403
    writer = signer.headers(role="service", scopes=["bookings:write"])
    assert (
        await bookings.post(f"/registrations/{w['registration_b']}/accept", headers=writer)
    ).status == 200
    assert (await bookings.get("/registrations", headers=staff(signer))).status == 200


async def test_a_member_without_the_booking_right_cannot_request(
    bookings, signer: TestSigner, two_families: dict
) -> None:
    w = two_families
    headers = parent(signer, w["a"], rights=["invoices"])
    body = {
        "person_id": w["child_a"],
        "activity_id": w["activity"]["id"],
        "period_id": w["period"]["id"],
    }
    response = await bookings.post(f"/families/{w['a']}/registrations", json=body, headers=headers)
    assert response.status == 403
