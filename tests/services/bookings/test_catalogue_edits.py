"""Editing the catalogue after creation: a unit's times and incompatibilities, a group's name
and ages, and one opening read back (what the back-office pages need)."""

from __future__ import annotations

from services.kit.testing import TestSigner

from .factories import catalogue, create_activity, parent, staff


def _unit(activity: dict, code: str) -> dict:
    return next(u for u in activity["units"] if u["code"] == code)


async def test_a_unit_s_times_and_incompatibilities_change_in_both_directions(
    bookings, signer: TestSigner
) -> None:
    activity = await create_activity(bookings, signer)  # journée excludes matin, après-midi
    matin = _unit(activity, "matin")

    # Matin no longer excludes journée: journée's own list loses matin too.
    changed = await bookings.patch(
        f"/units/{matin['id']}",
        json={"label": "Matinée", "starts_at": "08:00", "ends_at": "12:15", "excludes": []},
        headers=staff(signer),
    )
    assert changed.status == 200, await changed.text()
    body = await changed.json()
    assert (body["label"], body["starts_at"], body["ends_at"]) == (
        "Matinée",
        "08:00:00",
        "12:15:00",
    )
    assert body["code"] == "matin" and body["excludes"] == []
    read = await (await bookings.get(f"/activities/{activity['id']}", headers=staff(signer))).json()
    assert _unit(read, "journee")["excludes"] == ["apres_midi"]

    # Repas now excludes journée; only the listed direction is stored, read symmetrically.
    repas = _unit(activity, "repas")
    added = await bookings.patch(
        f"/units/{repas['id']}", json={"excludes": ["journee"]}, headers=staff(signer)
    )
    assert (await added.json())["excludes"] == ["journee"]


async def test_bad_unit_edits_are_refused_and_change_nothing(bookings, signer: TestSigner) -> None:
    activity = await create_activity(bookings, signer)
    matin = _unit(activity, "matin")
    path = f"/units/{matin['id']}"
    cases = [
        ({"starts_at": "13:00"}, 422),  # after its 12:00 end
        ({"excludes": ["piscine"]}, 409),  # no such unit
        ({"label": ""}, 422),
        ({}, 422),
        ({"code": "autre"}, 422),  # a code never changes
    ]
    for body, status in cases:
        response = await bookings.patch(path, json=body, headers=staff(signer))
        assert response.status == status, (body, await response.text())
    read = await (await bookings.get(f"/activities/{activity['id']}", headers=staff(signer))).json()
    assert _unit(read, "matin") == matin
    missing = await bookings.patch("/units/nope", json={"label": "x"}, headers=staff(signer))
    assert missing.status == 404
    refused = await bookings.patch(path, json={"label": "x"}, headers=parent(signer, "f"))
    assert refused.status == 403


async def test_a_group_s_name_and_ages_change_and_keep_their_rules(
    bookings, signer: TestSigner
) -> None:
    activity = await create_activity(bookings, signer)
    maternelle, primaire = activity["groups"]
    renamed = await bookings.patch(
        f"/groups/{maternelle['id']}",
        json={"name": "petits", "min_age": 2, "capacity": 12},
        headers=staff(signer),
    )
    assert renamed.status == 200, await renamed.text()
    body = await renamed.json()
    assert (body["name"], body["min_age"], body["max_age"], body["capacity"]) == (
        "petits", 2, 5, 12,
    )  # fmt: skip

    inverted = await bookings.patch(
        f"/groups/{primaire['id']}", json={"max_age": 4}, headers=staff(signer)
    )  # below its minimum of 6
    assert inverted.status == 422
    assert "âge maximum" in (await inverted.json())["detail"]
    twice = await bookings.patch(
        f"/groups/{primaire['id']}", json={"name": "petits"}, headers=staff(signer)
    )
    assert twice.status == 409
    nulled = await bookings.patch(
        f"/groups/{primaire['id']}", json={"name": None}, headers=staff(signer)
    )
    assert nulled.status == 422
    read = await (await bookings.get(f"/activities/{activity['id']}", headers=staff(signer))).json()
    assert read["groups"][1] == primaire


async def test_one_opening_is_read_by_its_id(bookings, signer: TestSigner) -> None:
    _activity, period = await catalogue(bookings, signer)
    made = await bookings.post(
        f"/periods/{period['id']}/openings",
        json={"capacity": 8, "units": ["repas"], "groups": ["primaire"], "weekdays": [2]},
        headers=staff(signer),
    )
    assert (await made.json())["created"] == 2  # the two Wednesdays of the spring holidays
    listed = await bookings.get(
        "/openings", params={"period_id": period["id"]}, headers=staff(signer)
    )
    first = (await listed.json())["items"][0]
    one = await bookings.get(f"/openings/{first['id']}", headers=staff(signer))
    assert one.status == 200
    assert await one.json() == first
    assert (await bookings.get("/openings/nope", headers=staff(signer))).status == 404
