"""Factories of catalogue data through the real API, with unique names per test."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp.test_utils import TestClient

from services.kit.testing import TestSigner

GROUPS = [
    {"name": "maternelle", "min_age": 3, "max_age": 5},
    {"name": "primaire", "min_age": 6, "max_age": 11},
]
UNITS = [
    {
        "code": "journee",
        "label": "Journée",
        "starts_at": "08:30",
        "ends_at": "17:30",
        "excludes": ["matin", "apres_midi"],
    },
    {"code": "matin", "label": "Matin", "starts_at": "08:30", "ends_at": "12:00"},
    {"code": "apres_midi", "label": "Après-midi", "starts_at": "13:30", "ends_at": "17:30"},
    {"code": "repas", "label": "Repas", "starts_at": "12:00", "ends_at": "13:30"},
]
# The window of the tests' spring holidays, in Paris time: lundi 29 mars → jeudi 8 avril 2027.
SPRING = {
    "school_year": "2026-2027",
    "starts_on": "2027-04-19",
    "ends_on": "2027-04-30",
    "registration_opens_at": "2027-03-29T00:00:00",
    "registration_closes_at": "2027-04-09T00:00:00",
}


def unique(prefix: str) -> str:
    """A name no other test uses (the database lives for the whole run)."""
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def staff(signer: TestSigner) -> dict[str, str]:
    """Headers of a staff member."""
    return signer.headers(role="staff", subject="agent-1")


def parent(signer: TestSigner, family_id: str, **claims: Any) -> dict[str, str]:
    """Headers of a parent of `family_id`."""
    return signer.headers(families=[family_id], subject=f"parent-{family_id}", **claims)


async def create_activity(client: TestClient, signer: TestSigner, **fields: Any) -> dict[str, Any]:
    """An activity with the ALSH's groups and units unless told otherwise."""
    body = {"name": unique("ALSH"), "groups": GROUPS, "units": UNITS, **fields}
    response = await client.post("/activities", json=body, headers=staff(signer))
    assert response.status == 201, await response.text()
    return await response.json()


async def create_period(
    client: TestClient, signer: TestSigner, activity_id: str, **fields: Any
) -> dict[str, Any]:
    """A period of the activity, by default the spring holidays with their window."""
    body = {"name": unique("Vacances de printemps"), **SPRING, **fields}
    response = await client.post(
        f"/activities/{activity_id}/periods", json=body, headers=staff(signer)
    )
    assert response.status == 201, await response.text()
    return await response.json()


async def catalogue(
    client: TestClient, signer: TestSigner, **activity_fields: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """An activity and its spring period."""
    activity = await create_activity(client, signer, **activity_fields)
    period = await create_period(client, signer, activity["id"])
    return activity, period
