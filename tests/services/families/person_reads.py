"""Reading a person's record as its family does, and the fields its rules offer."""

from __future__ import annotations

from typing import Any

from .conftest import FamiliesApi


def offered(person: dict[str, Any]) -> set[str]:
    """The fields a person's record offers (its rules)."""
    return {rule["field"] for rule in person["fields"]}


async def read_as_parent(api: FamiliesApi, family_id: str, person_id: str) -> dict[str, Any]:
    """The person's record as the family's parent reads it."""
    response = await api.client.get(
        f"/families/{family_id}/persons/{person_id}", headers=api.parent(family_id)
    )
    assert response.status == 200, await response.text()
    return await response.json()
