"""A catalogue with openings and accepted registrations, made through the real API, for the
reservation tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient

from services.kit.testing import TestSigner

from .conftest import ContractStandIn
from .factories import create_activity, create_period, parent, staff


@dataclass
class Setup:
    """An activity, its period, openings by (day, unit code), and registered children."""

    activity: dict[str, Any]
    period: dict[str, Any]
    openings: dict[tuple[str, str], str]
    children: list[tuple[str, str]]  # (family_id, person_id)

    def opening(self, day: str, unit: str = "journee") -> str:
        """The opening id of the primary group on `day` for `unit`."""
        return self.openings[(day, unit)]


async def setup_reservations(
    client: TestClient,
    signer: TestSigner,
    stand_in: ContractStandIn,
    *,
    capacity: int = 20,
    children: int = 1,
    families: int | None = None,
    period: dict[str, Any] | None = None,
    **activity_fields: Any,
) -> Setup:
    """An automatic activity (unless told), openings of the primary group, registered children.

    Children belong to one family each unless `families` is 1.
    """
    activity_fields.setdefault("validation", "automatic")
    activity = await create_activity(client, signer, **activity_fields)
    created_period = await create_period(client, signer, activity["id"], **(period or {}))
    made = await client.post(
        f"/periods/{created_period['id']}/openings",
        json={"capacity": capacity, "groups": ["primaire"]},
        headers=staff(signer),
    )
    assert made.status in (200, 201), await made.text()
    listed = await client.get(
        "/openings",
        params={"period_id": created_period["id"]},
        headers=staff(signer),
    )
    assert listed.status == 200, await listed.text()
    openings = {
        (o["day"], o["unit_code"]): o["id"]
        for o in (await listed.json())["items"]
        if o["group_name"] == "primaire"
    }
    shared_family = str(uuid.uuid4())
    kids: list[tuple[str, str]] = []
    for _ in range(children):
        family_id = shared_family if families == 1 else str(uuid.uuid4())
        person_id = str(uuid.uuid4())
        stand_in.add_person(family_id, person_id, birth_date="2019-05-12")
        registered = await client.post(
            f"/families/{family_id}/registrations",
            json={
                "person_id": person_id,
                "activity_id": activity["id"],
                "period_id": created_period["id"],
            },
            headers=parent(signer, family_id),
        )
        assert registered.status == 201, await registered.text()
        body = await registered.json()
        if body["state"] != "accepted":
            accepted = await client.post(
                f"/registrations/{body['id']}/accept", headers=staff(signer)
            )
            assert accepted.status == 200, await accepted.text()
        kids.append((family_id, person_id))
    return Setup(activity, created_period, openings, kids)


def as_parent(signer: TestSigner, family_id: str) -> dict[str, str]:
    """Headers of a parent of `family_id` allowed to book."""
    return parent(signer, family_id)


async def save(
    client: TestClient,
    signer: TestSigner,
    family_id: str,
    changes: list[dict[str, str]],
    **headers: str,
) -> tuple[int, Any]:
    """POST the changes as the family's parent; (status, body)."""
    response = await client.post(
        f"/families/{family_id}/reservations/changes",
        json={"changes": changes},
        headers={**as_parent(signer, family_id), **headers},
    )
    return response.status, await response.json()


def book(person_id: str, opening_id: str) -> dict[str, str]:
    """A booking change."""
    return {"person_id": person_id, "opening_id": opening_id, "action": "book"}


def cancel(person_id: str, opening_id: str) -> dict[str, str]:
    """A cancellation change."""
    return {"person_id": person_id, "opening_id": opening_id, "action": "cancel"}
