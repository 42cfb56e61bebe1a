"""The catalogue: activities with rules, groups and units; periods; openings made in bulk."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from services.kit.keys import DATABASE
from services.kit.testing import TestSigner

from .factories import UNITS, create_activity, create_period, parent, staff, unique


async def test_an_activity_keeps_its_rules_groups_units_and_exclusions(
    bookings, signer: TestSigner
) -> None:
    activity = await create_activity(
        bookings,
        signer,
        validation="automatic",
        waiting_list=True,
        add_notice={"kind": "weekday_before", "weekday": 2, "at": "12:00"},
        cancel_notice={
            "kind": "days_before",
            "days": 2,
            "at": "10:00",
            "skip_weekends_and_holidays": True,
        },
    )
    read = await (await bookings.get(f"/activities/{activity['id']}", headers=staff(signer))).json()
    assert read["validation"] == "automatic" and read["waiting_list"] is True
    assert read["add_notice"] == {"kind": "weekday_before", "weekday": 2, "at": "12:00:00"}
    assert read["cancel_notice"]["skip_weekends_and_holidays"] is True
    assert [g["name"] for g in read["groups"]] == ["maternelle", "primaire"]
    journee = next(u for u in read["units"] if u["code"] == "journee")
    assert journee["excludes"] == ["matin", "apres_midi"]
    assert journee["starts_at"] == "08:30:00"

    changed = await bookings.patch(
        f"/activities/{activity['id']}",
        json={"add_notice": None, "validation": "manual"},
        headers=staff(signer),
    )
    body = await changed.json()
    assert body["add_notice"] is None and body["validation"] == "manual"
    assert body["cancel_notice"] is not None  # not sent, kept


async def test_bad_catalogue_input_is_refused_precisely(bookings, signer: TestSigner) -> None:
    name = unique("Périscolaire")
    await create_activity(bookings, signer, name=name)
    twice = await bookings.post("/activities", json={"name": name}, headers=staff(signer))
    assert twice.status == 409
    assert name in (await twice.json())["detail"]

    unknown_unit = await bookings.post(
        "/activities",
        json={"name": unique("X"), "units": [{**UNITS[0], "excludes": ["sieste"]}]},
        headers=staff(signer),
    )
    assert unknown_unit.status == 422
    assert "sieste" in str((await unknown_unit.json())["errors"])

    ages = await bookings.post(
        "/activities",
        json={"name": unique("X"), "groups": [{"name": "g", "min_age": 9, "max_age": 3}]},
        headers=staff(signer),
    )
    assert ages.status == 422
    bad_rule = await bookings.post(
        "/activities",
        json={"name": unique("X"), "add_notice": {"kind": "full_moon"}},
        headers=staff(signer),
    )
    assert bad_rule.status == 422


async def test_a_municipal_system_imports_with_its_scope(bookings, signer: TestSigner) -> None:
    system = signer.headers(role="service", scopes=["bookings:write", "bookings:read"])
    created = await bookings.post("/activities", json={"name": unique("Import")}, headers=system)
    assert created.status == 201
    activity_id = (await created.json())["id"]
    period = await bookings.post(
        f"/activities/{activity_id}/periods",
        json={
            "name": "Année scolaire 2026-2027",
            "school_year": "2026-2027",
            "starts_on": "2026-09-01",
            "ends_on": "2027-07-03",
            "registration_opens_at": "2026-06-01T08:00:00+02:00",
            "registration_closes_at": "2026-07-01T00:00:00",
        },
        headers=system,
    )
    assert period.status == 201, await period.text()
    body = await period.json()
    # A datetime without zone is Paris time, stored and answered in UTC.
    assert body["registration_opens_at"] == "2026-06-01T06:00:00Z"
    assert body["registration_closes_at"] == "2026-06-30T22:00:00Z"
    bad_year = await bookings.post(
        f"/activities/{activity_id}/periods",
        json={
            **{
                k: v
                for k, v in body.items()
                if k in ("starts_on", "ends_on", "registration_opens_at", "registration_closes_at")
            },
            "name": "x",
            "school_year": "2026-2028",
        },
        headers=system,
    )
    assert bad_year.status == 422
    # Midnight on 01/01/0001 in Paris is before the first instant UTC holds: it was a 500.
    first_instant = await bookings.post(
        f"/activities/{activity_id}/periods",
        json={"name": "x", "school_year": "2026-2027", "starts_on": "2026-09-01",
              "ends_on": "2027-07-03", "registration_opens_at": "0001-01-01T00:00:00",
              "registration_closes_at": "2026-07-01T00:00:00"},
        headers=system,
    )  # fmt: skip
    assert first_instant.status == 422, await first_instant.text()


async def test_bulk_openings_skip_week_ends_holidays_and_closures(
    bookings, signer: TestSigner
) -> None:
    activity = await create_activity(bookings, signer)
    # 2026: Lundi de Pâques 6 April, 1 and 8 May are Fridays, Ascension Thursday 14 May.
    period = await create_period(
        bookings,
        signer,
        activity["id"],
        starts_on="2026-04-06",
        ends_on="2026-05-15",
        school_year="2025-2026",
    )
    closure = await bookings.post(
        f"/activities/{activity['id']}/closures",
        json={"days": ["2026-04-22"], "reason": "Journée pédagogique"},
        headers=staff(signer),
    )
    assert closure.status == 201
    body = {"capacity": 24, "units": ["journee", "repas"], "groups": ["primaire"]}
    made = await bookings.post(
        f"/periods/{period['id']}/openings", json=body, headers=staff(signer)
    )
    assert made.status == 201, await made.text()
    result = await made.json()
    skipped = {s["day"]: s["reason"] for s in result["skipped"]}
    assert skipped == {
        "2026-04-06": "Jour férié : Lundi de Pâques",
        "2026-04-22": "Fermeture : Journée pédagogique",
        "2026-05-01": "Jour férié : Fête du Travail",
        "2026-05-08": "Jour férié : Fête de la Victoire",
        "2026-05-14": "Jour férié : Ascension",
    }
    weekdays = 30  # 6 April → 15 May 2026: six weeks of five days
    assert result["created"] == (weekdays - len(skipped)) * 2
    listed = await (
        await bookings.get(
            "/openings", params={"period_id": period["id"]}, headers=parent(signer, "f")
        )
    ).json()
    days = {date.fromisoformat(o["day"]) for o in listed["items"]}
    assert all(d.weekday() < 5 for d in days)
    assert date(2026, 4, 6) not in days and date(2026, 5, 14) not in days
    assert {o["unit_code"] for o in listed["items"]} == {"journee", "repas"}
    assert {o["group_name"] for o in listed["items"]} == {"primaire"}

    again = await (
        await bookings.post(f"/periods/{period['id']}/openings", json=body, headers=staff(signer))
    ).json()
    assert again["created"] == 0 and again["already_there"] == result["created"]

    wednesdays = await (
        await bookings.post(
            f"/periods/{period['id']}/openings",
            json={"capacity": 12, "units": ["matin"], "weekdays": [2]},
            headers=staff(signer),
        )
    ).json()
    assert wednesdays["created"] == 2 * 5  # two groups, six Wednesdays minus the closure

    unknown = await bookings.post(
        f"/periods/{period['id']}/openings",
        json={"capacity": 1, "units": ["sieste"]},
        headers=staff(signer),
    )
    assert unknown.status == 409
    assert "sieste" in (await unknown.json())["detail"]


async def test_one_opening_is_edited_and_the_database_refuses_overbooking(
    bookings, signer: TestSigner
) -> None:
    activity = await create_activity(bookings, signer)
    period = await create_period(bookings, signer, activity["id"])
    await bookings.post(
        f"/periods/{period['id']}/openings",
        json={"capacity": 10, "units": ["repas"], "groups": ["primaire"], "weekdays": [0]},
        headers=staff(signer),
    )
    listed = await (
        await bookings.get("/openings", params={"period_id": period["id"]}, headers=staff(signer))
    ).json()
    opening = listed["items"][0]
    edited = await bookings.patch(
        f"/openings/{opening['id']}", json={"capacity": 3, "closed": True}, headers=staff(signer)
    )
    assert edited.status == 200
    assert (await edited.json())["capacity"] == 3 and (await edited.json())["closed"] is True
    missing = await bookings.patch("/openings/nope", json={"capacity": 3}, headers=staff(signer))
    assert missing.status == 404

    with pytest.raises(IntegrityError):
        async with bookings.app[DATABASE].transaction() as session:
            await session.execute(
                text("UPDATE openings SET booked = 4 WHERE id = :id"), {"id": opening["id"]}
            )


async def test_group_capacity_cannot_drop_below_registrations(
    bookings, signer: TestSigner, stand_in
) -> None:
    activity = await create_activity(bookings, signer)
    period = await create_period(bookings, signer, activity["id"])
    primaire = next(g for g in activity["groups"] if g["name"] == "primaire")
    for _ in range(2):
        family, child = unique("f").replace(" ", "-"), unique("c").replace(" ", "-")
        stand_in.add_person(family, child, birth_date="2019-01-01")
        created = await bookings.post(
            f"/families/{family}/registrations",
            json={"person_id": child, "activity_id": activity["id"], "period_id": period["id"]},
            headers=parent(signer, family),
        )
        assert created.status == 201
    too_low = await bookings.patch(
        f"/groups/{primaire['id']}", json={"capacity": 1}, headers=staff(signer)
    )
    assert too_low.status == 409
    exact = await bookings.patch(
        f"/groups/{primaire['id']}", json={"capacity": 2}, headers=staff(signer)
    )
    assert exact.status == 200
    family, child = "f-third", unique("c").replace(" ", "-")
    stand_in.add_person(family, child, birth_date="2019-01-01")
    third = await bookings.post(
        f"/families/{family}/registrations",
        json={"person_id": child, "activity_id": activity["id"], "period_id": period["id"]},
        headers=parent(signer, family),
    )
    assert third.status == 409
    assert "complet" in (await third.json())["detail"]


async def test_openapi_documents_the_catalogue_and_registrations(bookings) -> None:
    document = await (await bookings.get("/openapi.json")).json()
    for path in (
        "/activities",
        "/periods/{period_id}/openings",
        "/catalogue",
        "/families/{family_id}/registrations",
        "/registrations",
        "/registrations/decisions",
    ):
        assert path in document["paths"], path
    assert "RegistrationCreate" in document["components"]["schemas"]
