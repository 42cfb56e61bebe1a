"""`POST /families/{id}/persons` with an `Idempotency-Key`: a census system's retry after a
timeout replays the first answer and never adds the child twice (on this run's PostgreSQL).
The same module and rules as `POST /families` (test_idempotent_creation.py)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import func, select

from services.families import idempotency
from services.families.models import FamilyMember, IdempotencyKey, Person
from services.kit.keys import DATABASE

from .conftest import FamiliesApi

PROBLEMS = "https://portail-famille.fr/problems/"
CENSUS = "service:recensement"


def _child(first_name: str) -> dict[str, Any]:
    return {"role": "child", "first_name": first_name, "last_name": "DURAND",
            "birth_date": "2020-03-14"}  # fmt: skip


def _census(api: FamiliesApi, subject: str = "recensement") -> dict[str, str]:
    return api.signer.headers(role="service", subject=subject, scopes=("families:write",))


async def _add(
    api: FamiliesApi, family_id: str, body: dict[str, Any], headers: dict[str, str], key: str
) -> Any:
    return await api.client.post(
        f"/families/{family_id}/persons", json=body, headers={**headers, "Idempotency-Key": key}
    )


async def _children_named(api: FamiliesApi, family_id: str, first_name: str) -> int:
    async with api.client.app[DATABASE].sessions() as session:
        counted = await session.scalar(
            select(func.count())
            .select_from(Person)
            .join(FamilyMember, FamilyMember.person_id == Person.id)
            .where(FamilyMember.family_id == family_id, Person.first_name == first_name)
        )
    return int(counted or 0)


async def test_a_retry_with_the_same_key_replays_the_first_person(api: FamiliesApi) -> None:
    family, key, name = await api.family(), str(uuid.uuid4()), f"Léa-{uuid.uuid4().hex[:6]}"
    first = await _add(api, family["id"], _child(name), _census(api), key)
    assert first.status == 201, await first.text()
    assert "Idempotent-Replayed" not in first.headers
    created = await first.json()

    # The same body, its keys in another order: the same request.
    body = dict(reversed(list(_child(name).items())))
    again = await _add(api, family["id"], body, _census(api), key)

    assert again.status == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await again.json() == created
    assert await _children_named(api, family["id"], name) == 1
    assert len(await api.events("person.created", person_id=created["id"])) == 1


async def test_the_same_key_with_another_body_or_family_is_refused(api: FamiliesApi) -> None:
    family, other_family = await api.family(), await api.family()
    key, name = str(uuid.uuid4()), f"Léa-{uuid.uuid4().hex[:6]}"
    assert (await _add(api, family["id"], _child(name), _census(api), key)).status == 201

    another_body = await _add(api, family["id"], _child(name + "X"), _census(api), key)
    another_family = await _add(api, other_family["id"], _child(name), _census(api), key)
    # A key that created a family cannot add a person either: another operation.
    family_key = str(uuid.uuid4())
    made = await api.client.post(
        "/families", json={"name": "CLE"}, headers={**_census(api), "Idempotency-Key": family_key}
    )
    assert made.status == 201
    another_operation = await _add(api, family["id"], _child(name), _census(api), family_key)

    for response in (another_body, another_family, another_operation):
        assert response.status == 422
        assert response.content_type == "application/problem+json"
        assert (await response.json())["type"] == PROBLEMS + "idempotency-key-reused"
    assert await _children_named(api, family["id"], name + "X") == 0
    assert await _children_named(api, other_family["id"], name) == 0
    assert await _children_named(api, family["id"], name) == 1


async def test_one_callers_key_never_replays_anothers_person(api: FamiliesApi) -> None:
    family, key, name = await api.family(), str(uuid.uuid4()), f"Léa-{uuid.uuid4().hex[:6]}"
    mine = await _add(api, family["id"], _child(name), _census(api, "recensement"), key)
    theirs = await _add(api, family["id"], _child(name), _census(api, "autre-logiciel"), key)

    assert [mine.status, theirs.status] == [201, 201]
    assert "Idempotent-Replayed" not in theirs.headers
    assert (await mine.json())["id"] != (await theirs.json())["id"]


async def test_two_concurrent_requests_with_one_key_add_one_person(api: FamiliesApi) -> None:
    family, name = await api.family(), f"Jumeau-{uuid.uuid4().hex[:6]}"
    for _ in range(5):  # several rounds: the twins must really overlap at least once
        key = str(uuid.uuid4())
        answers = await asyncio.gather(
            *(_add(api, family["id"], _child(name), _census(api), key) for _ in range(2))
        )
        statuses = sorted(a.status for a in answers)
        # Either the twin found the first still running (409, in flight), or finished (replay).
        assert statuses in ([201, 201], [201, 409]), statuses
        created = [a for a in answers if a.status == 201]
        assert len({(await a.json())["id"] for a in created}) == 1
        for answer in answers:
            if answer.status == 409:
                assert (await answer.json())["type"] == PROBLEMS + "idempotency-key-in-flight"
    assert await _children_named(api, family["id"], name) == 5


async def test_a_key_in_flight_answers_409_and_nothing_is_written(api: FamiliesApi) -> None:
    family, key, name = await api.family(), str(uuid.uuid4()), f"Vol-{uuid.uuid4().hex[:6]}"
    lock = idempotency.lock_name(idempotency.Claim(caller=CENSUS, key=key, fingerprint=""))
    database = api.client.app[DATABASE]
    # The first request, held open in its transaction: the key's lock is taken as it would be.
    async with database.transaction() as session:
        await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(lock, 0))))
        response = await _add(api, family["id"], _child(name), _census(api), key)
        assert response.status == 409
    assert await _children_named(api, family["id"], name) == 0
    async with database.sessions() as session:
        assert await session.get(IdempotencyKey, (CENSUS, key)) is None
    assert (await _add(api, family["id"], _child(name), _census(api), key)).status == 201


async def test_the_key_is_written_with_the_person_or_not_at_all(api: FamiliesApi) -> None:
    key, name = str(uuid.uuid4()), f"Perdu-{uuid.uuid4().hex[:6]}"
    # No such family: refused inside the transaction, after the key was taken; both undone.
    missing = await _add(api, str(uuid.uuid4()), _child(name), _census(api), key)
    assert missing.status == 404
    async with api.client.app[DATABASE].sessions() as session:
        assert await session.get(IdempotencyKey, (CENSUS, key)) is None

    family = await api.family()
    created = await _add(api, family["id"], _child(name), _census(api), key)
    assert created.status == 201
    async with api.client.app[DATABASE].sessions() as session:
        stored = await session.get(IdempotencyKey, (CENSUS, key))
    assert stored is not None and stored.response == await created.json()


async def test_a_malformed_key_is_a_400_and_adds_nobody(api: FamiliesApi) -> None:
    family = await api.family()
    response = await _add(api, family["id"], _child("Mal"), _census(api), "une clé à espaces")
    assert response.status == 400
    assert response.content_type == "application/problem+json"
    assert await _children_named(api, family["id"], "Mal") == 0
