"""Registration requests: every rule checked on the server, decisions as events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from services.bookings.models import OutboxMessage, Registration
from services.kit.keys import DATABASE
from services.kit.testing import TestSigner

from .conftest import ContractStandIn, FrozenClock, closed_port_url
from .factories import catalogue, parent, staff

SIX_YEARS_OLD = "2020-09-01"  # 6 on 19 April 2027: primaire
FOUR_YEARS_OLD = "2022-06-15"  # 4: maternelle
FIFTEEN_YEARS_OLD = "2011-01-01"


def family_and_child(
    stand_in: ContractStandIn, birth_date: str | None = SIX_YEARS_OLD
) -> tuple[str, str]:
    family_id, person_id = str(uuid.uuid4()), str(uuid.uuid4())
    stand_in.add_person(family_id, person_id, birth_date=birth_date)
    return family_id, person_id


async def request(
    client: Any, signer: TestSigner, family_id: str, body: dict[str, Any], **claims: Any
) -> Any:
    return await client.post(
        f"/families/{family_id}/registrations",
        json=body,
        headers=parent(signer, family_id, **claims),
    )


async def count_rows(client: Any, person_id: str) -> int:
    async with client.app[DATABASE].sessions() as session:
        statement = (
            select(func.count())
            .select_from(Registration)
            .where(Registration.person_id == person_id)
        )
        return int(await session.scalar(statement) or 0)


async def events_of(client: Any, registration_id: str) -> list[dict[str, Any]]:
    async with client.app[DATABASE].sessions() as session:
        rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.occurred_at))
        return [
            r.message for r in rows if r.message["data"].get("registration_id") == registration_id
        ]


async def test_a_request_inside_the_window_waits_for_staff_then_is_accepted(
    bookings, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    activity, period = await catalogue(bookings, signer)
    family_id, person_id = family_and_child(stand_in)
    body = {"person_id": person_id, "activity_id": activity["id"], "period_id": period["id"]}

    created = await request(bookings, signer, family_id, body)
    assert created.status == 201, await created.text()
    registration = await created.json()
    assert registration["state"] == "requested"
    assert registration["state_label"] == "demandée"
    assert registration["group_name"] == "primaire"  # chosen by age
    assert registration["person_name"] == "Enfant TEST"
    # The caller's own token was forwarded to both checks.
    token = parent(signer, family_id)["Authorization"]
    assert stand_in.authorizations and all(a.startswith("Bearer ") for a in stand_in.authorizations)
    assert stand_in.completeness_calls == 1

    queue = await bookings.get(
        "/registrations",
        params={"state": "requested", "activity_id": activity["id"]},
        headers=staff(signer),
    )
    assert [r["id"] for r in (await queue.json())["items"]] == [registration["id"]]

    accepted = await bookings.post(
        f"/registrations/{registration['id']}/accept", headers=staff(signer)
    )
    assert accepted.status == 200, await accepted.text()
    assert (await accepted.json())["state_label"] == "acceptée"

    mine = await bookings.get(
        f"/families/{family_id}/registrations", headers=parent(signer, family_id)
    )
    assert [r["state"] for r in (await mine.json())["items"]] == ["accepted"]

    sent = await events_of(bookings, registration["id"])
    assert [e["type"] for e in sent] == ["registration.requested", "registration.accepted"]
    accepted_event = sent[1]
    assert accepted_event["family_id"] == family_id
    assert accepted_event["data"]["person_id"] == person_id
    assert accepted_event["data"]["activity_name"] == activity["name"]
    assert accepted_event["data"]["period_name"] == period["name"]
    assert token  # a real header was built for the parent


async def test_refusal_carries_its_reason_and_gives_the_place_back(
    bookings, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    activity, period = await catalogue(
        bookings, signer, groups=[{"name": "primaire", "min_age": 6, "max_age": 11, "capacity": 1}]
    )
    first_family, first = family_and_child(stand_in)
    second_family, second = family_and_child(stand_in)
    body = {"activity_id": activity["id"], "period_id": period["id"]}
    created = await request(bookings, signer, first_family, {**body, "person_id": first})
    registration_id = (await created.json())["id"]
    full = await request(bookings, signer, second_family, {**body, "person_id": second})
    assert full.status == 409
    assert "complet" in (await full.json())["detail"]

    refused = await bookings.post(
        f"/registrations/{registration_id}/refuse",
        json={"reason": "Dossier incomplet"},
        headers=staff(signer),
    )
    assert refused.status == 200
    assert (await refused.json())["refusal_reason"] == "Dossier incomplet"
    again = await request(bookings, signer, second_family, {**body, "person_id": second})
    assert again.status == 201, await again.text()
    sent = await events_of(bookings, registration_id)
    assert sent[-1]["type"] == "registration.refused"
    assert sent[-1]["data"]["reason"] == "Dossier incomplet"

    twice = await bookings.post(f"/registrations/{registration_id}/accept", headers=staff(signer))
    assert twice.status == 409
    assert "déjà refusée" in (await twice.json())["detail"]


async def test_outside_the_window_is_refused_with_the_window_named(
    bookings, signer: TestSigner, stand_in: ContractStandIn, clock: FrozenClock
) -> None:
    activity, period = await catalogue(bookings, signer)
    family_id, person_id = family_and_child(stand_in)
    body = {"person_id": person_id, "activity_id": activity["id"], "period_id": period["id"]}

    # 28 March 23:59 Paris (21:59 UTC, summer time since that night): one minute too early.
    clock.now = datetime(2027, 3, 28, 21, 59, tzinfo=UTC)
    early = await request(bookings, signer, family_id, body)
    # 9 April 00:00 Paris: the window closed at that instant.
    clock.now = datetime(2027, 4, 8, 22, 0, tzinfo=UTC)
    late = await request(bookings, signer, family_id, body)
    for response in (early, late):
        assert response.status == 422
        problem = await response.json()
        assert problem["type"].endswith("/registration-window-closed")
        assert "lundi 29 mars 2027 à 00:00" in problem["detail"]
        assert "jeudi 8 avril 2027 à 23:59" in problem["detail"]
    assert await count_rows(bookings, person_id) == 0

    clock.now = datetime(2027, 4, 8, 21, 59, tzinfo=UTC)  # 23:59 Paris: still open
    last_minute = await request(bookings, signer, family_id, body)
    assert last_minute.status == 201, await last_minute.text()


async def test_the_catalogue_lists_only_periods_open_now(
    bookings, signer: TestSigner, clock: FrozenClock
) -> None:
    activity, period = await catalogue(bookings, signer)
    headers = parent(signer, "any-family")
    opened = await (await bookings.get("/catalogue", headers=headers)).json()
    entry = next(a for a in opened["items"] if a["id"] == activity["id"])
    assert [p["id"] for p in entry["periods"]] == [period["id"]]
    assert {g["name"] for g in entry["groups"]} == {"maternelle", "primaire"}

    clock.now = datetime(2027, 5, 1, tzinfo=UTC)
    closed = await (await bookings.get("/catalogue", headers=headers)).json()
    assert activity["id"] not in {a["id"] for a in closed["items"]}


async def test_age_outside_every_group_is_refused(
    bookings, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    activity, period = await catalogue(bookings, signer)
    family_id, person_id = family_and_child(stand_in, FIFTEEN_YEARS_OLD)
    body = {"person_id": person_id, "activity_id": activity["id"], "period_id": period["id"]}
    response = await request(bookings, signer, family_id, body)
    assert response.status == 422
    problem = await response.json()
    assert problem["type"].endswith("/age-not-eligible")
    assert "16 ans" in problem["detail"] and "de 3 à 11 ans" in problem["detail"]
    assert await count_rows(bookings, person_id) == 0


async def test_a_chosen_group_must_fit_the_age(
    bookings, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    activity, period = await catalogue(bookings, signer)
    family_id, person_id = family_and_child(stand_in, FOUR_YEARS_OLD)
    primaire = next(g for g in activity["groups"] if g["name"] == "primaire")
    body = {
        "person_id": person_id,
        "activity_id": activity["id"],
        "period_id": period["id"],
        "group_id": primaire["id"],
    }
    response = await request(bookings, signer, family_id, body)
    assert response.status == 422
    assert (
        "le groupe « primaire » accueille les enfants de 6 à 11 ans"
        in (await response.json())["detail"]
    )
    no_birth_family, no_birth = family_and_child(stand_in, None)
    unknown_age = await request(
        bookings, signer, no_birth_family, {**body, "person_id": no_birth, "group_id": None}
    )
    assert unknown_age.status == 422
    assert "date de naissance" in (await unknown_age.json())["detail"]


async def test_missing_documents_are_named_and_nothing_is_saved(
    bookings, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    activity, period = await catalogue(bookings, signer)
    family_id, person_id = family_and_child(stand_in)
    stand_in.missing[(family_id, person_id, activity["id"])] = [
        {"document_type_id": "vacc", "name": "Photocopie des vaccinations"}
    ]
    body = {"person_id": person_id, "activity_id": activity["id"], "period_id": period["id"]}
    response = await request(bookings, signer, family_id, body)
    assert response.status == 422
    problem = await response.json()
    assert problem["type"].endswith("/documents-missing")
    assert "Photocopie des vaccinations" in problem["detail"]
    assert problem["missing"] == ["Photocopie des vaccinations"]
    assert await count_rows(bookings, person_id) == 0


async def test_documents_sent_but_not_yet_checked_are_not_asked_for_again(
    bookings, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    activity, period = await catalogue(bookings, signer)
    family_id, person_id = family_and_child(stand_in)
    stand_in.missing[(family_id, person_id, activity["id"])] = [
        {"document_type_id": "vacc", "name": "Photocopie des vaccinations", "state": "pending"},
        {"document_type_id": "rc", "name": "Attestation d'assurance", "state": "missing"},
    ]
    body = {"person_id": person_id, "activity_id": activity["id"], "period_id": period["id"]}
    response = await request(bookings, signer, family_id, body)
    assert response.status == 422
    detail = (await response.json())["detail"]
    # The parent already sent the vaccinations: they wait for the structure, not for a resend.
    assert "pas encore validés par la structure pour Enfant TEST : Photocopie des vaccinations" in (
        detail
    )
    assert "À transmettre depuis « Mes documents » : Attestation d'assurance." in detail
    assert "Documents manquants" not in detail
    assert await count_rows(bookings, person_id) == 0


async def test_documents_not_required_means_documents_not_asked(
    bookings, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    activity, period = await catalogue(bookings, signer, documents_required=False)
    family_id, person_id = family_and_child(stand_in)
    stand_in.documents_status = 500
    body = {"person_id": person_id, "activity_id": activity["id"], "period_id": period["id"]}
    response = await request(bookings, signer, family_id, body)
    assert response.status == 201, await response.text()
    assert stand_in.completeness_calls == 0


async def test_documents_service_failing_or_unreachable_registers_nothing(
    bookings_app, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    client = await bookings_app()
    activity, period = await catalogue(client, signer)
    family_id, person_id = family_and_child(stand_in)
    body = {"person_id": person_id, "activity_id": activity["id"], "period_id": period["id"]}

    stand_in.documents_status = 502
    failing = await request(client, signer, family_id, body)
    assert failing.status == 424
    assert failing.headers["Retry-After"] == "30"
    assert (
        "vérification des documents impossible pour le moment"
        in (await failing.json())["detail"].lower()
    )

    unreachable = await bookings_app(gateway_url=closed_port_url())
    down = await request(unreachable, signer, family_id, body)
    assert down.status == 424
    assert "impossible pour le moment" in (await down.json())["detail"]
    assert await count_rows(client, person_id) == 0


async def test_someone_elses_child_unknown_activity_and_period_are_refused(
    bookings, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    activity, period = await catalogue(bookings, signer)
    other_activity, _ = await catalogue(bookings, signer)
    family_id, _child = family_and_child(stand_in)
    _other_family, other_child = family_and_child(stand_in)
    base = {"activity_id": activity["id"], "period_id": period["id"]}

    foreign = await request(bookings, signer, family_id, {**base, "person_id": other_child})
    assert foreign.status == 404
    assert (await foreign.json())["detail"] == "Cette personne ne fait pas partie de votre famille."

    unknown = await request(
        bookings, signer, family_id, {**base, "person_id": _child, "activity_id": "nope"}
    )
    assert unknown.status == 404
    assert (await unknown.json())["detail"] == "Activité inconnue."

    wrong_period = await request(
        bookings,
        signer,
        family_id,
        {**base, "person_id": _child, "activity_id": other_activity["id"]},
    )
    assert wrong_period.status == 404
    assert (await wrong_period.json())["detail"] == "Période inconnue pour cette activité."
    assert await count_rows(bookings, other_child) == 0


async def test_a_second_identical_request_is_refused(
    bookings, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    activity, period = await catalogue(bookings, signer)
    family_id, person_id = family_and_child(stand_in)
    body = {"person_id": person_id, "activity_id": activity["id"], "period_id": period["id"]}
    assert (await request(bookings, signer, family_id, body)).status == 201
    twice = await request(bookings, signer, family_id, body)
    assert twice.status == 409
    assert "Enfant TEST a déjà une inscription demandée" in (await twice.json())["detail"]
    assert await count_rows(bookings, person_id) == 1


async def test_a_cancelled_registration_can_be_requested_again(
    bookings, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    activity, period = await catalogue(bookings, signer)
    family_id, person_id = family_and_child(stand_in)
    body = {"person_id": person_id, "activity_id": activity["id"], "period_id": period["id"]}
    first = await (await request(bookings, signer, family_id, body)).json()
    cancelled = await bookings.post(
        f"/families/{family_id}/registrations/{first['id']}/cancel",
        headers=parent(signer, family_id),
    )
    assert cancelled.status == 200
    assert (await cancelled.json())["state"] == "cancelled"
    again = await bookings.post(
        f"/families/{family_id}/registrations/{first['id']}/cancel",
        headers=parent(signer, family_id),
    )
    assert again.status == 409
    assert (await request(bookings, signer, family_id, body)).status == 201
    sent = await events_of(bookings, first["id"])
    assert sent[-1]["type"] == "registration.cancelled"


async def test_automatic_validation_accepts_at_once(
    bookings, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    activity, period = await catalogue(bookings, signer, validation="automatic")
    family_id, person_id = family_and_child(stand_in)
    body = {"person_id": person_id, "activity_id": activity["id"], "period_id": period["id"]}
    created = await request(bookings, signer, family_id, body)
    registration = await created.json()
    assert registration["state"] == "accepted"
    sent = await events_of(bookings, registration["id"])
    assert [e["type"] for e in sent] == ["registration.requested", "registration.accepted"]
    assert sent[1]["data"]["automatic"] is True


async def test_filters_dashboard_and_since(
    bookings, signer: TestSigner, stand_in: ContractStandIn, clock: FrozenClock
) -> None:
    alsh, spring = await catalogue(bookings, signer)
    peri, peri_spring = await catalogue(bookings, signer)
    family_id, first = family_and_child(stand_in)
    second = str(uuid.uuid4())
    stand_in.add_person(family_id, second, birth_date=FOUR_YEARS_OLD, first_name="Petit")
    r1 = await (
        await request(
            bookings,
            signer,
            family_id,
            {"person_id": first, "activity_id": alsh["id"], "period_id": spring["id"]},
        )
    ).json()
    clock.now = datetime(2027, 3, 31, 8, 0, tzinfo=UTC)
    r2 = await (
        await request(
            bookings,
            signer,
            family_id,
            {"person_id": second, "activity_id": peri["id"], "period_id": peri_spring["id"]},
        )
    ).json()
    await bookings.post(f"/registrations/{r2['id']}/accept", headers=staff(signer))

    headers = parent(signer, family_id)
    url = f"/families/{family_id}/registrations"
    by_person = await (
        await bookings.get(url, params={"person_id": second}, headers=headers)
    ).json()
    assert [r["id"] for r in by_person["items"]] == [r2["id"]]
    by_state = await (
        await bookings.get(url, params={"state": "requested"}, headers=headers)
    ).json()
    assert [r["id"] for r in by_state["items"]] == [r1["id"]]
    by_year = await (
        await bookings.get(url, params={"school_year": "2026-2027"}, headers=headers)
    ).json()
    assert {r["id"] for r in by_year["items"]} == {r1["id"], r2["id"]}
    other_year = await (
        await bookings.get(url, params={"school_year": "2025-2026"}, headers=headers)
    ).json()
    assert other_year["items"] == []
    bad = await bookings.get(url, params={"state": "perdue"}, headers=headers)
    assert bad.status == 422

    tile = await (await bookings.get(f"/dashboard/{family_id}", headers=headers)).json()
    assert tile == {"inscriptions": {"count": 1, "pending": 1, "accepted": 1}}

    since = await bookings.get(
        "/registrations",
        params={"since": "2027-03-31T09:00:00", "family_id": family_id},
        headers=signer.headers(role="service", scopes=["bookings:read"]),
    )
    assert since.status == 200
    assert [r["id"] for r in (await since.json())["items"]] == [r2["id"]]


async def test_batch_decisions_stand_alone(
    bookings, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    activity, period = await catalogue(bookings, signer)
    ids = []
    for _ in range(3):
        family_id, person_id = family_and_child(stand_in)
        created = await request(
            bookings,
            signer,
            family_id,
            {"person_id": person_id, "activity_id": activity["id"], "period_id": period["id"]},
        )
        ids.append((await created.json())["id"])
    batch = {
        "decisions": [
            {"registration_id": ids[0], "decision": "accept"},
            {"registration_id": ids[1], "decision": "refuse", "reason": "Groupe réservé"},
            {"registration_id": ids[0], "decision": "refuse", "reason": "Changement d'avis"},
            {"registration_id": "missing", "decision": "accept"},
        ]
    }
    response = await bookings.post("/registrations/decisions", json=batch, headers=staff(signer))
    assert response.status == 200, await response.text()
    results = (await response.json())["results"]
    assert [r["ok"] for r in results] == [True, True, False, False]
    assert results[2]["detail"] == "Cette demande est déjà acceptée."
    assert results[3]["detail"] == "Inscription inconnue."
    no_reason = await bookings.post(
        "/registrations/decisions",
        json={"decisions": [{"registration_id": ids[2], "decision": "refuse"}]},
        headers=staff(signer),
    )
    assert no_reason.status == 422


async def test_rules_are_judged_in_order_although_both_services_are_asked_at_once(
    bookings, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    activity, period = await catalogue(bookings, signer)
    family_id, child = family_and_child(stand_in)
    _other, stranger = family_and_child(stand_in)
    base = {"activity_id": activity["id"], "period_id": period["id"]}
    stand_in.documents_status = 503
    # Not a member of the family: said first, whatever documents answered.
    foreign = await request(bookings, signer, family_id, {**base, "person_id": stranger})
    assert foreign.status == 404
    # Too old: the age is said before the documents.
    old_family, old_child = family_and_child(stand_in, FIFTEEN_YEARS_OLD)
    too_old = await request(bookings, signer, old_family, {**base, "person_id": old_child})
    assert too_old.status == 422
    assert (await too_old.json())["type"].endswith("/age-not-eligible")
    # Then the documents check that could not be made.
    unchecked = await request(bookings, signer, family_id, {**base, "person_id": child})
    assert unchecked.status == 424
    assert await count_rows(bookings, child) == 0
