"""A family's edit waits for staff; accepting applies it, refusing keeps it; events follow."""

from __future__ import annotations

import asyncio

from .conftest import FamiliesApi


async def test_a_phone_change_waits_then_is_applied_on_acceptance_with_its_events(
    api: FamiliesApi,
) -> None:
    family = await api.family(phone="05 59 29 00 00")
    fid = family["id"]

    request = await api.requested(fid, {"phone": "+33 6 11 22 33 44"}, version=family["version"])
    assert request["state"] == "pending"
    assert request["changes"] == [
        {"field": "phone", "label": "Téléphone du domicile", "old": "05 59 29 00 00",
         "new": "06 11 22 33 44"}
    ]  # fmt: skip

    # Nothing is applied yet; the family sees the field as pending.
    mine = await (await api.client.get(f"/families/{fid}", headers=api.parent(fid))).json()
    assert mine["phone"] == "05 59 29 00 00"
    assert mine["pending_fields"] == ["phone"]
    assert mine["version"] == family["version"]
    requested = await api.events(request_id=request["id"])
    assert [e["type"] for e in requested] == ["family.change_requested"]
    assert requested[0]["family_id"] == fid and requested[0]["data"]["family_id"] == fid

    # Staff see it in the queue, side by side with today's value.
    queue = await (
        await api.client.get(f"/staff/requests?family_id={fid}", headers=api.staff())
    ).json()
    assert [item["id"] for item in queue["items"]] == [request["id"]]
    [change] = queue["items"][0]["changes"]
    assert (change["old"], change["new"], change["current"]) == (
        "05 59 29 00 00", "06 11 22 33 44", "05 59 29 00 00",
    )  # fmt: skip
    assert queue["items"][0]["family_name"] == family["name"]

    accepted = await api.client.post(
        f"/staff/requests/{request['id']}/accept", json={}, headers=api.staff()
    )
    assert accepted.status == 200, await accepted.text()
    assert (await accepted.json())["state"] == "accepted"

    after = await api.read_family(fid)
    assert after["phone"] == "06 11 22 33 44"
    assert after["version"] == family["version"] + 1
    assert after["pending_fields"] == []
    types = [e["type"] for e in await api.events(request_id=request["id"])]
    assert types == ["family.change_requested", "family.change_accepted"]

    listed = await (
        await api.client.get(f"/families/{fid}/requests", headers=api.parent(fid))
    ).json()
    assert [(r["id"], r["state"]) for r in listed] == [(request["id"], "accepted")]


async def test_a_refusal_needs_a_reason_keeps_the_record_and_writes_one_event(
    api: FamiliesApi,
) -> None:
    family = await api.family()
    fid = family["id"]
    request = await api.requested(fid, {"city": "Bayonne"}, version=family["version"])

    no_reason = await api.client.post(
        f"/staff/requests/{request['id']}/refuse", json={}, headers=api.staff()
    )
    assert no_reason.status == 422
    assert (await no_reason.json())["errors"][0]["field"] == "reason"

    refused = await api.client.post(
        f"/staff/requests/{request['id']}/refuse",
        json={"reason": "Merci de joindre un justificatif de domicile."},
        headers=api.staff(),
    )
    assert refused.status == 200
    assert (await refused.json())["state"] == "refused"
    assert (await api.read_family(fid))["city"] == "Hasparren"
    events = await api.events(request_id=request["id"])
    assert [e["type"] for e in events] == ["family.change_requested", "family.change_refused"]
    assert events[1]["data"]["reason"] == "Merci de joindre un justificatif de domicile."
    # What the family's e-mail names: the field as its screens label it.
    assert (events[1]["data"]["fields"], events[1]["data"]["labels"]) == (["city"], ["Commune"])

    mine = await (
        await api.client.get(f"/families/{fid}/requests/{request['id']}", headers=api.parent(fid))
    ).json()
    assert mine["state"] == "refused"
    assert mine["reason"] == "Merci de joindre un justificatif de domicile."


async def test_a_decided_request_cannot_be_decided_again(api: FamiliesApi) -> None:
    family = await api.family()
    request = await api.requested(family["id"], {"city": "Bayonne"}, version=family["version"])
    first = await api.client.post(
        f"/staff/requests/{request['id']}/accept", json={}, headers=api.staff()
    )
    again = await api.client.post(
        f"/staff/requests/{request['id']}/refuse", json={"reason": "non"}, headers=api.staff()
    )
    assert first.status == 200
    assert again.status == 409
    assert (await again.json())["type"].endswith("/request-not-pending")
    decisions = [
        e
        for e in await api.events(request_id=request["id"])
        if e["type"] != "family.change_requested"
    ]
    assert [e["type"] for e in decisions] == ["family.change_accepted"]


async def test_two_staff_accepting_at_once_apply_the_change_once(api: FamiliesApi) -> None:
    family = await api.family()
    request = await api.requested(family["id"], {"city": "Bayonne"}, version=family["version"])
    url = f"/staff/requests/{request['id']}/accept"
    responses = await asyncio.gather(
        *(api.client.post(url, json={}, headers=api.staff()) for _ in range(5))
    )
    assert sorted(r.status for r in responses) == [200, 409, 409, 409, 409]
    after = await api.read_family(family["id"])
    assert after["version"] == family["version"] + 1
    accepted = [
        e
        for e in await api.events(request_id=request["id"])
        if e["type"] == "family.change_accepted"
    ]
    assert len(accepted) == 1


async def test_a_family_withdraws_a_pending_request(api: FamiliesApi) -> None:
    family = await api.family()
    fid = family["id"]
    request = await api.requested(fid, {"city": "Bayonne"}, version=family["version"])
    url = f"/families/{fid}/requests/{request['id']}/withdraw"

    withdrawn = await api.client.post(url, headers=api.parent(fid))
    assert withdrawn.status == 200
    assert (await withdrawn.json())["state"] == "withdrawn"
    again = await api.client.post(url, headers=api.parent(fid))
    assert again.status == 409
    accept = await api.client.post(
        f"/staff/requests/{request['id']}/accept", json={}, headers=api.staff()
    )
    assert accept.status == 409
    assert (await api.read_family(fid))["city"] == "Hasparren"
    types = [e["type"] for e in await api.events(request_id=request["id"])]
    assert types == ["family.change_requested", "family.change_withdrawn"]
    # The field is free again for a new request.
    assert (await api.ask(fid, {"city": "Anglet"}, version=family["version"])).status == 201


async def test_a_second_request_on_the_same_field_is_refused_while_the_first_waits(
    api: FamiliesApi,
) -> None:
    family = await api.family()
    fid = family["id"]
    await api.requested(fid, {"phone": "06 11 22 33 44"}, version=family["version"])

    same_field = await api.ask(fid, {"phone": "06 99 88 77 66"}, version=family["version"])
    assert same_field.status == 409
    body = await same_field.json()
    assert body["type"].endswith("/pending-request-conflict")
    assert body["errors"] == [
        {"field": "changes.phone", "message": "Une demande en attente porte déjà sur ce champ."}
    ]
    other_field = await api.ask(fid, {"city": "Bayonne"}, version=family["version"])
    assert other_field.status == 201


async def test_concurrent_requests_on_one_field_leave_exactly_one_pending(
    api: FamiliesApi,
) -> None:
    family = await api.family()
    fid = family["id"]
    responses = await asyncio.gather(
        *(api.ask(fid, {"phone": f"06 00 00 00 0{i}"}, version=family["version"]) for i in range(6))
    )
    assert sorted(r.status for r in responses) == [201, 409, 409, 409, 409, 409]
    pending = await (
        await api.client.get(f"/families/{fid}/requests?state=pending", headers=api.parent(fid))
    ).json()
    assert len(pending) == 1


async def test_a_form_filled_before_a_staff_edit_is_refused_as_stale(api: FamiliesApi) -> None:
    family = await api.family()
    fid = family["id"]
    edited = await api.client.patch(
        f"/families/{fid}",
        json={"version": family["version"], "city": "Anglet"},
        headers=api.staff(),
    )
    assert edited.status == 200

    stale = await api.ask(fid, {"phone": "06 11 22 33 44"}, version=family["version"])
    assert stale.status == 409
    body = await stale.json()
    assert body["type"].endswith("/stale-version")
    assert body["current_version"] == family["version"] + 1
    assert await api.events("family.change_requested", family_id=fid) == []


async def test_a_staff_edit_after_the_request_blocks_its_acceptance(api: FamiliesApi) -> None:
    family = await api.family()
    fid = family["id"]
    request = await api.requested(fid, {"phone": "06 11 22 33 44"}, version=family["version"])
    edited = await api.client.patch(
        f"/families/{fid}",
        json={"version": family["version"], "phone": "05 59 11 11 11"},
        headers=api.staff(),
    )
    assert edited.status == 200

    queued = await (
        await api.client.get(f"/staff/requests/{request['id']}", headers=api.staff())
    ).json()
    assert queued["conflict"] is True
    assert queued["changes"][0]["current"] == "05 59 11 11 11"

    accept = await api.client.post(
        f"/staff/requests/{request['id']}/accept", json={}, headers=api.staff()
    )
    assert accept.status == 409
    assert (await accept.json())["errors"] == [
        {"field": "phone", "message": "Modifié depuis la demande."}
    ]
    assert (await api.read_family(fid))["phone"] == "05 59 11 11 11"  # never overwritten
    refuse = await api.client.post(
        f"/staff/requests/{request['id']}/refuse",
        json={"reason": "Numéro déjà mis à jour par l'accueil."},
        headers=api.staff(),
    )
    assert refuse.status == 200


async def test_a_request_on_another_field_is_still_accepted_after_a_staff_edit(
    api: FamiliesApi,
) -> None:
    family = await api.family()
    fid = family["id"]
    request = await api.requested(fid, {"city": "Bayonne"}, version=family["version"])
    await api.client.patch(
        f"/families/{fid}", json={"version": family["version"], "phone": "05 59 11 11 11"},
        headers=api.staff(),
    )  # fmt: skip
    accept = await api.client.post(
        f"/staff/requests/{request['id']}/accept", json={}, headers=api.staff()
    )
    assert accept.status == 200
    after = await api.read_family(fid)
    assert (after["city"], after["phone"]) == ("Bayonne", "05 59 11 11 11")


async def test_a_request_on_a_child_is_applied_to_the_child(api: FamiliesApi) -> None:
    family = await api.family()
    fid = family["id"]
    child = await api.person(fid, school="École Jean Verdun", school_class="CP")
    request = await api.requested(
        fid,
        {"school_class": "CE1", "allergies": "Arachide", "photo_authorised": True},
        version=child["version"],
        person_id=child["id"],
    )
    assert request["person_name"] == "Léa Martin"
    detail = await (
        await api.client.get(f"/families/{fid}/persons/{child['id']}", headers=api.parent(fid))
    ).json()
    assert detail["pending_fields"] == ["allergies", "photo_authorised", "school_class"]

    accepted = await api.client.post(
        f"/staff/requests/{request['id']}/accept", json={"reason": "ok"}, headers=api.staff()
    )
    assert accepted.status == 200
    after = await api.read_person(fid, child["id"])
    assert (after["school_class"], after["allergies"], after["photo_authorised"]) == (
        "CE1", "Arachide", True,
    )  # fmt: skip
    assert after["version"] == child["version"] + 1


async def test_a_request_that_changes_nothing_is_refused(api: FamiliesApi) -> None:
    family = await api.family(city="Hasparren")
    response = await api.ask(family["id"], {"city": "Hasparren"}, version=family["version"])
    assert response.status == 422
    assert await api.events("family.change_requested", family_id=family["id"]) == []


async def test_a_batch_decides_each_request_on_its_own(api: FamiliesApi) -> None:
    family = await api.family()
    fid = family["id"]
    first = await api.requested(fid, {"city": "Bayonne"}, version=family["version"])
    second = await api.requested(fid, {"phone": "06 11 22 33 44"}, version=family["version"])
    await api.client.post(f"/staff/requests/{second['id']}/accept", json={}, headers=api.staff())

    batch = await api.client.post(
        "/staff/requests/batch",
        json={
            "request_ids": [first["id"], second["id"], "no-such-request"],
            "decision": "refuse",
            "reason": "Pièces manquantes.",
        },
        headers=api.staff(),
    )
    assert batch.status == 200
    results = {r["request_id"]: r for r in (await batch.json())["results"]}
    assert results[first["id"]]["status"] == 200 and results[first["id"]]["state"] == "refused"
    assert results[second["id"]]["status"] == 409
    assert results["no-such-request"]["status"] == 404
    assert (await api.read_family(fid))["city"] == "Hasparren"


async def test_a_batch_refusal_without_reason_refuses_nothing(api: FamiliesApi) -> None:
    family = await api.family()
    request = await api.requested(family["id"], {"city": "Bayonne"}, version=family["version"])
    batch = await api.client.post(
        "/staff/requests/batch",
        json={"request_ids": [request["id"]], "decision": "refuse"},
        headers=api.staff(),
    )
    assert (await batch.json())["results"][0]["status"] == 422
    still = await (
        await api.client.get(f"/staff/requests/{request['id']}", headers=api.staff())
    ).json()
    assert still["state"] == "pending"
