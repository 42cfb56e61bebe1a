"""A group's registration capacity is never exceeded, whatever the concurrency."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from services.bookings.models import GroupPlaces
from services.kit.keys import DATABASE
from services.kit.testing import TestSigner

from .conftest import ContractStandIn
from .factories import catalogue, parent

PLACES = 5
REQUESTS = 50


async def test_fifty_concurrent_requests_for_five_places_register_exactly_five(
    bookings, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    activity, period = await catalogue(
        bookings,
        signer,
        groups=[{"name": "primaire", "min_age": 6, "max_age": 11, "capacity": PLACES}],
    )
    children = []
    for _ in range(REQUESTS):
        family_id, person_id = str(uuid.uuid4()), str(uuid.uuid4())
        stand_in.add_person(family_id, person_id, birth_date="2019-05-05")
        children.append((family_id, person_id))

    async def one(family_id: str, person_id: str) -> tuple[int, str]:
        response = await bookings.post(
            f"/families/{family_id}/registrations",
            json={"person_id": person_id, "activity_id": activity["id"], "period_id": period["id"]},
            headers=parent(signer, family_id),
        )
        body = await response.json()
        return response.status, body.get("type", "")

    results = await asyncio.gather(*(one(f, p) for f, p in children))
    statuses = Counter(status for status, _ in results)
    assert statuses == {201: PLACES, 409: REQUESTS - PLACES}, statuses
    assert all(kind.endswith("/group-full") for status, kind in results if status == 409)

    group_id = activity["groups"][0]["id"]
    async with bookings.app[DATABASE].sessions() as session:
        places = await session.get(GroupPlaces, (group_id, period["id"]))
        assert places is not None and places.registered == PLACES
        count = await session.scalar(
            text(
                "SELECT count(*) FROM registrations WHERE group_id = :g "
                "AND state IN ('requested', 'accepted')"
            ),
            {"g": group_id},
        )
        assert count == PLACES


async def test_the_database_refuses_an_overfull_group_whatever_the_code(
    bookings, signer: TestSigner
) -> None:
    activity, period = await catalogue(
        bookings, signer, groups=[{"name": "primaire", "min_age": 6, "max_age": 11, "capacity": 1}]
    )
    group_id = activity["groups"][0]["id"]
    database = bookings.app[DATABASE]
    async with database.transaction() as session:
        session.add(
            GroupPlaces(group_id=group_id, period_id=period["id"], capacity=1, registered=1)
        )
    with pytest.raises(IntegrityError):
        async with database.transaction() as session:
            await session.execute(
                text("UPDATE group_places SET registered = registered + 1 WHERE group_id = :g"),
                {"g": group_id},
            )
    async with database.sessions() as session:
        row = await session.scalar(
            select(GroupPlaces.registered).where(GroupPlaces.group_id == group_id)
        )
        assert row == 1


async def test_the_same_guarantee_on_the_embedded_database(
    bookings_app, signer: TestSigner, stand_in: ContractStandIn, tmp_path
) -> None:
    client = await bookings_app(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bookings.sqlite'}",
        run_migrations_at_start=True,
    )
    activity, period = await catalogue(
        client, signer, groups=[{"name": "primaire", "min_age": 6, "max_age": 11, "capacity": 3}]
    )
    children = []
    for _ in range(30):
        family_id, person_id = str(uuid.uuid4()), str(uuid.uuid4())
        stand_in.add_person(family_id, person_id, birth_date="2019-05-05")
        children.append((family_id, person_id))

    async def one(family_id: str, person_id: str) -> int:
        response = await client.post(
            f"/families/{family_id}/registrations",
            json={"person_id": person_id, "activity_id": activity["id"], "period_id": period["id"]},
            headers=parent(signer, family_id),
        )
        return response.status

    statuses = Counter(await asyncio.gather(*(one(f, p) for f, p in children)))
    # No "database is locked": every loser is a clean « complet », never a 5xx.
    assert statuses == {201: 3, 409: 27}, statuses
