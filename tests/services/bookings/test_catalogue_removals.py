"""A period's name and dates changed, and catalogue entries deleted — only when nothing
depends on them (registrations, reservations), with their unbooked openings; closed days
opened again. Tests taking `client` run on PostgreSQL and on SQLite (the dev profile's)."""

from __future__ import annotations

from typing import Any

from services.kit.testing import TestSigner

from .conftest import ContractStandIn
from .factories import catalogue, create_period, parent, staff
from .planning import book, save, setup_reservations

WED_1, WED_2 = "2027-04-21", "2027-04-28"


async def _openings(client: Any, signer: TestSigner, **params: str) -> list[dict[str, Any]]:
    listed = await client.get("/openings", params=params, headers=staff(signer))
    assert listed.status == 200, await listed.text()
    items: list[dict[str, Any]] = (await listed.json())["items"]
    return items


async def _activity(client: Any, signer: TestSigner, activity_id: str) -> dict[str, Any]:
    read: dict[str, Any] = await (
        await client.get(f"/activities/{activity_id}", headers=staff(signer))
    ).json()
    return read


async def _wednesday_meals(client: Any, signer: TestSigner, period_id: str) -> None:
    made = await client.post(
        f"/periods/{period_id}/openings",
        json={"capacity": 8, "units": ["repas"], "groups": ["primaire"], "weekdays": [2]},
        headers=staff(signer),
    )
    assert (await made.json())["created"] == 2  # the 21st and the 28th of April


async def test_a_period_s_name_and_dates_change_while_they_cover_its_openings(
    bookings: Any, signer: TestSigner
) -> None:
    activity, period = await catalogue(bookings, signer)
    await _wednesday_meals(bookings, signer, period["id"])
    path = f"/periods/{period['id']}"

    changed = await bookings.patch(
        path,
        json={"name": "Printemps", "starts_on": WED_1, "ends_on": WED_2},
        headers=staff(signer),
    )
    assert changed.status == 200, await changed.text()
    body = await changed.json()
    assert (body["name"], body["starts_on"], body["ends_on"]) == ("Printemps", WED_1, WED_2)
    assert body["registration_opens_at"] == period["registration_opens_at"]  # not sent: kept

    # One day later would leave the first Wednesday's opening outside.
    refused = await bookings.patch(path, json={"starts_on": "2027-04-22"}, headers=staff(signer))
    assert refused.status == 409
    detail = (await refused.json())["detail"]
    assert "1 ouverture en dehors de la période" in detail, detail
    assert "du 21/04/2027 au 28/04/2027" in detail, detail

    other = await create_period(bookings, signer, activity["id"], name="Été")
    taken = await bookings.patch(path, json={"name": "Été"}, headers=staff(signer))
    assert taken.status == 409 and "existe déjà" in (await taken.json())["detail"]
    inverted = await bookings.patch(path, json={"ends_on": "2027-04-01"}, headers=staff(signer))
    assert inverted.status == 422
    assert (await inverted.json())["errors"][0]["field"] == "ends_on"
    window = await bookings.patch(
        path, json={"registration_closes_at": "2027-03-01T00:00:00"}, headers=staff(signer)
    )  # before the window opens
    assert window.status == 422
    for bad in ({}, {"name": None}, {"starts_on": "demain"}):
        assert (await bookings.patch(path, json=bad, headers=staff(signer))).status == 422, bad

    periods = await bookings.get(f"/activities/{activity['id']}/periods", headers=staff(signer))
    kept = next(p for p in (await periods.json())["items"] if p["id"] == period["id"])
    assert (kept["name"], kept["starts_on"], kept["ends_on"]) == ("Printemps", WED_1, WED_2)
    assert other["name"] == "Été"

    assert (
        await bookings.patch("/periods/nope", json={"name": "x"}, headers=staff(signer))
    ).status == 404
    as_parent = await bookings.patch(path, json={"name": "x"}, headers=parent(signer, "f"))
    assert as_parent.status == 403


async def test_new_dates_leaving_a_reservation_outside_are_refused_naming_it(
    client: Any, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    setup = await setup_reservations(client, signer, stand_in)
    family_id, child = setup.children[0]
    status, body = await save(client, signer, family_id, [book(child, setup.opening(WED_2))])
    assert status == 200, body
    refused = await client.patch(
        f"/periods/{setup.period['id']}", json={"ends_on": "2027-04-27"}, headers=staff(signer)
    )
    assert refused.status == 409
    detail = (await refused.json())["detail"]
    assert "(et 1 réservation en cours)" in detail, detail
    periods = await client.get(f"/activities/{setup.activity['id']}/periods", headers=staff(signer))
    assert (await periods.json())["items"][0]["ends_on"] == "2027-04-30"


async def test_an_unused_period_goes_with_its_unbooked_openings(
    client: Any, signer: TestSigner
) -> None:
    activity, period = await catalogue(client, signer)
    await _wednesday_meals(client, signer, period["id"])
    removed = await client.delete(f"/periods/{period['id']}", headers=staff(signer))
    assert removed.status == 200, await removed.text()
    assert await removed.json() == {"id": period["id"], "openings_removed": 2}
    assert await _openings(client, signer, activity_id=activity["id"]) == []
    periods = await client.get(f"/activities/{activity['id']}/periods", headers=staff(signer))
    assert (await periods.json())["items"] == []
    again = await client.delete(f"/periods/{period['id']}", headers=staff(signer))
    assert again.status == 404


async def test_a_period_with_registrations_or_reservations_is_kept_and_says_why(
    client: Any, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    setup = await setup_reservations(client, signer, stand_in)
    family_id, child = setup.children[0]
    await save(client, signer, family_id, [book(child, setup.opening(WED_1))])
    before = await _openings(client, signer, period_id=setup.period["id"])

    refused = await client.delete(f"/periods/{setup.period['id']}", headers=staff(signer))
    assert refused.status == 409
    detail = (await refused.json())["detail"]
    assert "ne peut pas être supprimée" in detail, detail
    assert "1 inscription (dont 1 en cours ou acceptée)" in detail, detail
    assert "1 réservation sur 1 ouverture (dont 1 en cours)" in detail, detail
    assert "fermez plutôt sa fenêtre d'inscription" in detail, detail
    assert await _openings(client, signer, period_id=setup.period["id"]) == before


async def test_a_group_goes_only_when_nobody_registered_to_it(
    bookings: Any, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    setup = await setup_reservations(bookings, signer, stand_in)  # children in « primaire »
    maternelle, primaire = setup.activity["groups"]
    made = await bookings.post(
        f"/periods/{setup.period['id']}/openings",
        json={"capacity": 4, "units": ["journee"], "groups": ["maternelle"], "weekdays": [2]},
        headers=staff(signer),
    )
    assert (await made.json())["created"] == 2

    used = await bookings.delete(f"/groups/{primaire['id']}", headers=staff(signer))
    assert used.status == 409
    detail = (await used.json())["detail"]
    assert detail.startswith("Le groupe « primaire » ne peut pas être supprimé"), detail
    assert "fermez plutôt ses ouvertures" in detail

    removed = await bookings.delete(f"/groups/{maternelle['id']}", headers=staff(signer))
    assert removed.status == 200, await removed.text()
    assert (await removed.json())["openings_removed"] == 2
    read = await _activity(bookings, signer, setup.activity["id"])
    assert [g["name"] for g in read["groups"]] == ["primaire"]
    left = await _openings(bookings, signer, period_id=setup.period["id"])
    assert left and {o["group_name"] for o in left} == {"primaire"}


async def test_a_unit_goes_only_when_never_booked_and_stops_being_excluded(
    client: Any, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    setup = await setup_reservations(client, signer, stand_in)
    family_id, child = setup.children[0]
    # Booked, then cancelled: the cancelled reservation is history and still counts.
    await save(client, signer, family_id, [book(child, setup.opening(WED_1, "repas"))])
    cancelled = await save(
        client, signer, family_id,
        [{"person_id": child, "opening_id": setup.opening(WED_1, "repas"), "action": "cancel"}],
    )  # fmt: skip
    assert cancelled[1]["results"][0]["state"] == "cancelled", cancelled
    units = {u["code"]: u for u in setup.activity["units"]}

    used = await client.delete(f"/units/{units['repas']['id']}", headers=staff(signer))
    assert used.status == 409
    detail = (await used.json())["detail"]
    assert "L'unité « Repas » ne peut pas être supprimée" in detail
    assert "1 réservation sur 1 ouverture —" in detail, detail  # none active: no « dont »

    matin_openings = [
        o
        for o in await _openings(client, signer, period_id=setup.period["id"])
        if o["unit_code"] == "matin"
    ]
    removed = await client.delete(f"/units/{units['matin']['id']}", headers=staff(signer))
    assert removed.status == 200, await removed.text()
    assert (await removed.json())["openings_removed"] == len(matin_openings) > 0
    read = await _activity(client, signer, setup.activity["id"])
    assert "matin" not in {u["code"] for u in read["units"]}
    journee = next(u for u in read["units"] if u["code"] == "journee")
    assert journee["excludes"] == ["apres_midi"]  # it excluded matin, which is gone


async def test_a_closed_day_opens_again_and_bulk_creation_no_longer_skips_it(
    bookings: Any, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    activity, period = await catalogue(bookings, signer)
    added = await bookings.post(
        f"/activities/{activity['id']}/closures",
        json={"days": [WED_1], "reason": "grève (erreur)"},
        headers=staff(signer),
    )
    closure = (await added.json())["items"][0]
    removed = await bookings.delete(f"/closures/{closure['id']}", headers=staff(signer))
    assert removed.status == 200, await removed.text()
    assert await removed.json() == {"id": closure["id"], "day": WED_1, "closed_openings": 0}
    listed = await bookings.get(f"/activities/{activity['id']}/closures", headers=staff(signer))
    assert (await listed.json())["items"] == []
    await _wednesday_meals(bookings, signer, period["id"])  # both Wednesdays: none skipped

    # A day closed with its reservations cancelled: its openings stay closed, and counted.
    setup = await setup_reservations(bookings, signer, stand_in)
    closed = await bookings.post(
        f"/activities/{setup.activity['id']}/closure-cancellations",
        json={"day": WED_2, "reason": "grève"},
        headers=staff(signer),
    )
    assert closed.status == 200, await closed.text()
    closures = await bookings.get(
        f"/activities/{setup.activity['id']}/closures", headers=staff(signer)
    )
    closure_id = (await closures.json())["items"][0]["id"]
    reopened = await bookings.delete(f"/closures/{closure_id}", headers=staff(signer))
    assert (await reopened.json())["closed_openings"] == len(setup.activity["units"])


async def test_deletions_answer_404_for_unknown_or_foreign_ids_and_are_for_staff_only(
    bookings: Any, signer: TestSigner
) -> None:
    activity, period = await catalogue(bookings, signer)
    group, unit = activity["groups"][0], activity["units"][0]
    routes = [
        f"/groups/{group['id']}",
        f"/units/{unit['id']}",
        f"/periods/{period['id']}",
    ]
    # An id of another kind, an unknown one, one no row could have: 404, nothing deleted.
    for path in [
        f"/groups/{unit['id']}",
        f"/units/{period['id']}",
        f"/periods/{group['id']}",
        f"/closures/{period['id']}",
        "/groups/00000000-0000-4000-8000-000000000000",
        "/closures/" + "x" * 80,
    ]:
        response = await bookings.delete(path, headers=staff(signer))
        assert response.status == 404, (path, await response.text())
    reader = signer.headers(role="service", scopes=["bookings:read"])
    for path in routes:
        assert (await bookings.delete(path, headers=parent(signer, "f"))).status == 403
        assert (await bookings.delete(path, headers=reader)).status == 403
        assert (await bookings.delete(path)).status == 401
    read = await _activity(bookings, signer, activity["id"])
    assert sorted(u["id"] for u in read["units"]) == sorted(u["id"] for u in activity["units"])
    assert read["groups"] == activity["groups"]
    writer = signer.headers(role="service", scopes=["bookings:write"])
    assert (await bookings.delete(f"/units/{unit['id']}", headers=writer)).status == 200
    assert unit["code"] not in {
        u["code"] for u in (await _activity(bookings, signer, activity["id"]))["units"]
    }
