"""`POST /families` with an `Idempotency-Key`: a census system's retry after a timeout replays
the first answer and never creates a second family (on this run's PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from services.families import idempotency
from services.families.app import create_app
from services.families.config import FamiliesSettings
from services.families.models import Family, IdempotencyKey
from services.kit.keys import DATABASE
from services.kit.testing import TestSigner
from tests import support

from .conftest import FamiliesApi

PROBLEMS = "https://portail-famille.fr/problems/"


def _body(name: str) -> dict[str, Any]:
    return {"name": name, "postal_code": "64240", "city": "Hasparren"}


def _census(api: FamiliesApi, subject: str = "recensement") -> dict[str, str]:
    return api.signer.headers(role="service", subject=subject, scopes=("families:write",))


async def _post(api: FamiliesApi, body: dict[str, Any], headers: dict[str, str], key: str) -> Any:
    return await api.client.post(
        "/families", json=body, headers={**headers, "Idempotency-Key": key}
    )


async def _families_named(api: FamiliesApi, name: str) -> int:
    async with api.client.app[DATABASE].sessions() as session:
        return int(await session.scalar(select(func.count()).where(Family.name == name)) or 0)


async def test_a_retry_with_the_same_key_replays_the_first_family(api: FamiliesApi) -> None:
    name, key = f"RETRY-{uuid.uuid4().hex[:8]}", str(uuid.uuid4())
    first = await _post(api, _body(name), _census(api), key)
    assert first.status == 201, await first.text()
    assert "Idempotent-Replayed" not in first.headers
    created = await first.json()

    # The same body, its keys in another order: the same request.
    again = await _post(api, dict(reversed(list(_body(name).items()))), _census(api), key)

    assert again.status == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await again.json() == created
    assert await _families_named(api, name) == 1
    assert len(await api.events("family.created", family_id=created["id"])) == 1


async def test_the_same_key_with_another_body_is_refused(api: FamiliesApi) -> None:
    name, key = f"FIRST-{uuid.uuid4().hex[:8]}", str(uuid.uuid4())
    assert (await _post(api, _body(name), _census(api), key)).status == 201
    other = f"OTHER-{uuid.uuid4().hex[:8]}"

    response = await _post(api, _body(other), _census(api), key)

    assert response.status == 422
    assert response.content_type == "application/problem+json"
    problem = await response.json()
    assert problem["type"] == PROBLEMS + "idempotency-key-reused"
    assert "nouvelle clé" in problem["detail"]
    assert await _families_named(api, other) == 0


async def test_one_callers_key_never_replays_anothers_answer(api: FamiliesApi) -> None:
    key = str(uuid.uuid4())
    mine = await _post(api, _body(f"MINE-{key[:8]}"), _census(api, "recensement"), key)
    theirs = await _post(api, _body(f"MINE-{key[:8]}"), _census(api, "autre-logiciel"), key)
    staff = await _post(api, _body(f"MINE-{key[:8]}"), api.staff(), key)

    assert [mine.status, theirs.status, staff.status] == [201, 201, 201]
    assert "Idempotent-Replayed" not in theirs.headers
    ids = {(await r.json())["id"] for r in (mine, theirs, staff)}
    assert len(ids) == 3


async def test_two_concurrent_requests_with_one_key_create_one_family(api: FamiliesApi) -> None:
    name = f"TWIN-{uuid.uuid4().hex[:8]}"
    for _ in range(5):  # several rounds: the twins must really overlap at least once
        key = str(uuid.uuid4())
        answers = await asyncio.gather(
            *(_post(api, _body(name), _census(api), key) for _ in range(2))
        )
        statuses = sorted(a.status for a in answers)
        # Either the twin found the first still running (409, in flight), or finished (replay).
        assert statuses in ([201, 201], [201, 409]), statuses
        created = [a for a in answers if a.status == 201]
        assert len({(await a.json())["id"] for a in created}) == 1
        for answer in answers:
            if answer.status == 409:
                problem = await answer.json()
                assert problem["type"] == PROBLEMS + "idempotency-key-in-flight"
    assert await _families_named(api, name) == 5


async def test_a_key_in_flight_answers_409_and_nothing_is_written(api: FamiliesApi) -> None:
    key, name = str(uuid.uuid4()), f"FLIGHT-{uuid.uuid4().hex[:8]}"
    headers = _census(api)
    caller = "service:recensement"
    lock = idempotency.lock_name(idempotency.Claim(caller=caller, key=key, fingerprint=""))
    database = api.client.app[DATABASE]
    # The first request, held open in its transaction: the key's lock is taken as it would be.
    async with database.transaction() as session:
        await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(lock, 0))))
        response = await _post(api, _body(name), headers, key)
        assert response.status == 409
        assert (await response.json())["type"] == PROBLEMS + "idempotency-key-in-flight"
    assert await _families_named(api, name) == 0
    async with database.sessions() as session:
        assert await session.get(IdempotencyKey, (caller, key)) is None
    # Once it is over, the key is free.
    assert (await _post(api, _body(name), headers, key)).status == 201


async def test_the_key_is_written_with_the_family_or_not_at_all(api: FamiliesApi) -> None:
    key, name = str(uuid.uuid4()), f"FIXED-{uuid.uuid4().hex[:8]}"
    # Refused by the service inside the transaction, after the key was taken: both undone.
    refused = await _post(api, {**_body(name), "billing_person_id": str(uuid.uuid4())},
                          _census(api), key)  # fmt: skip
    assert refused.status == 422, await refused.text()
    async with api.client.app[DATABASE].sessions() as session:
        assert await session.get(IdempotencyKey, ("service:recensement", key)) is None
    assert await _families_named(api, name) == 0

    # The corrected body may then use the same key, and its answer is the one kept.
    created = await _post(api, _body(name), _census(api), key)
    assert created.status == 201
    again = await _post(api, _body(name), _census(api), key)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await again.json() == await created.json()


async def test_a_malformed_key_is_a_400(api: FamiliesApi) -> None:
    # Spaces, 101 and 5,000 characters, a tab, non-ASCII, empty: none is a key (other control
    # characters never reach the service: HTTP clients refuse to send them).
    for key in ("a key with spaces", "k" * 101, "k" * 5000, "k\tk", "clé", ""):
        response = await _post(api, _body("MAL"), _census(api), key)
        assert response.status == 400, key[:10]
        assert response.content_type == "application/problem+json"
    assert await _families_named(api, "MAL") == 0
    async with api.client.app[DATABASE].sessions() as session:
        assert not await session.scalar(
            select(func.count()).where(IdempotencyKey.caller == "service:recensement",
                                       IdempotencyKey.key.like("k%k"))
        )  # fmt: skip


async def test_a_caller_without_the_write_scope_stores_no_key(api: FamiliesApi) -> None:
    family, key = await api.family(), str(uuid.uuid4())
    for headers in (api.parent(family["id"]), api.system("families:read"), {}):
        refused = await _post(api, _body(f"NOPE-{key[:8]}"), headers, key)
        assert refused.status in (401, 403)
        assert refused.content_type == "application/problem+json"
    assert await _families_named(api, f"NOPE-{key[:8]}") == 0
    async with api.client.app[DATABASE].sessions() as session:
        assert not await session.scalar(select(func.count()).where(IdempotencyKey.key == key))


async def test_without_a_key_each_post_creates_a_family(api: FamiliesApi) -> None:
    name = f"NOKEY-{uuid.uuid4().hex[:8]}"
    for _ in range(2):
        response = await api.client.post("/families", json=_body(name), headers=_census(api))
        assert response.status == 201
    assert await _families_named(api, name) == 2


async def test_a_retry_replays_on_the_embedded_database_too(
    aiohttp_client: Any, signer: TestSigner, tmp_path: Path
) -> None:
    settings = FamiliesSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'families.sqlite'}",
        redis_url=support.redis_url(),
        jwks_json=json.dumps(signer.jwks),
        profile="test",
        run_migrations_at_start=True,
    )
    client = await aiohttp_client(create_app(settings))
    api = FamiliesApi(client, signer)
    key, name = str(uuid.uuid4()), f"SQLITE-{uuid.uuid4().hex[:8]}"
    first = await _post(api, _body(name), _census(api), key)
    again = await _post(api, _body(name), _census(api), key)
    other = await _post(api, _body(name + "X"), _census(api), key)

    assert [first.status, again.status, other.status] == [201, 201, 422]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await again.json() == await first.json()
    assert await _families_named(api, name) == 1


async def test_a_replay_sends_the_header_the_served_document_names(api: FamiliesApi) -> None:
    document = await (await api.client.get("/openapi.json")).json()
    family, name = await api.family(), f"DOC-{uuid.uuid4().hex[:8]}"
    child = {"role": "child", "first_name": name, "last_name": "DURAND",
             "birth_date": "2020-03-14"}  # fmt: skip

    for path, sent, body in (
        ("/families", "/families", _body(name)),
        ("/families/{family_id}/persons", f"/families/{family['id']}/persons", child),
    ):
        success = document["paths"][path]["post"]["responses"]["201"]
        named = success["headers"]["Idempotent-Replayed"]["schema"]["const"]
        key = str(uuid.uuid4())
        headers = {**_census(api), "Idempotency-Key": key}
        first = await api.client.post(sent, json=body, headers=headers)
        again = await api.client.post(sent, json=body, headers=headers)

        assert (first.status, again.status) == (201, 201), await again.text()
        assert "Idempotent-Replayed" not in first.headers
        assert again.headers["Idempotent-Replayed"] == named == "true", path
