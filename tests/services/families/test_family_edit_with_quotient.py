"""`PATCH /families/{id}` with the quotient: the fields and the quotient saved in one
transaction, checked as `PUT …/quotient` checks them, with the events both calls wrote."""

from __future__ import annotations

from typing import Any

from services.notifications.events import JOURNALERS, EventEnvelope

from .conftest import FamiliesApi

QUOTIENT = {"quotient": 640, "quotient_date": "2026-01-05", "quotient_source": "CAF"}


async def patch(api: FamiliesApi, family: dict[str, Any], body: dict[str, Any]) -> Any:
    """A staff edit of `family` (the raw response)."""
    return await api.client.patch(f"/families/{family['id']}", json=body, headers=api.staff())


async def updates(api: FamiliesApi, family: dict[str, Any]) -> list[list[str]]:
    """The fields of each `family.updated` event of the family, oldest first."""
    events = await api.events("family.updated", family_id=family["id"])
    return [e["data"]["fields"] for e in events]


async def test_the_fields_and_the_quotient_are_saved_together_with_both_events(
    api: FamiliesApi,
) -> None:
    family = await api.family()

    response = await patch(api, family, {"version": 1, "city": "Anglet", **QUOTIENT})

    assert response.status == 200, await response.text()
    saved = await response.json()
    assert (saved["city"], saved["quotient"], saved["quotient_date"], saved["quotient_source"]) == (
        "Anglet", 640, "2026-01-05", "CAF",
    )  # fmt: skip
    assert saved["version"] == 2  # one write
    assert await updates(api, family) == [["city"], ["quotient"]]
    events = await api.events("family.updated", family_id=family["id"])
    assert {e["data"]["by"] for e in events} == {"agent-1"}
    # The family's history (« Historique de mes actions », and staff's view of it) reads
    # them through the notifications consumer's journal rules: the two lines as before.
    lines = [JOURNALERS[e["type"]](EventEnvelope.model_validate(e)) for e in events]
    assert [(line.family_id, line.summary) for line in lines if line] == [
        (family["id"], {"fields": ["city"]}),
        (family["id"], {"fields": ["quotient"]}),
    ]


async def test_a_quotient_alone_writes_the_event_of_put_quotient(api: FamiliesApi) -> None:
    family = await api.family()

    response = await patch(api, family, {"version": 1, **QUOTIENT})

    assert response.status == 200, await response.text()
    assert await updates(api, family) == [["quotient"]]


async def test_a_quotient_without_its_date_and_source_is_refused_and_nothing_saved(
    api: FamiliesApi,
) -> None:
    family = await api.family()

    missing = await patch(api, family, {"version": 1, "city": "Anglet", "quotient": 640})
    emptied = await patch(
        api, family, {"version": 1, "city": "Anglet", **QUOTIENT, "quotient": None}
    )

    assert missing.status == 422
    assert (await missing.json())["errors"] == [
        {"field": "quotient_date", "message": "Ce champ est obligatoire."},
        {"field": "quotient_source", "message": "Ce champ est obligatoire."},
    ]
    assert emptied.status == 422
    assert (await emptied.json())["errors"] == [
        {"field": "quotient", "message": "Ce champ ne peut pas être vide."}
    ]
    after = await api.read_family(family["id"])
    assert (after["city"], after["quotient"], after["version"]) == ("Hasparren", None, 1)
    assert await updates(api, family) == []


async def test_a_quotient_in_the_future_is_refused_with_the_other_fields(api: FamiliesApi) -> None:
    family = await api.family()

    response = await patch(
        api, family, {"version": 1, "city": "Anglet", **QUOTIENT, "quotient_date": "2999-01-01"}
    )

    assert response.status == 422
    assert [e["field"] for e in (await response.json())["errors"]] == ["quotient_date"]
    assert (await api.read_family(family["id"]))["city"] == "Hasparren"


async def test_a_stale_edit_with_a_quotient_writes_nothing(api: FamiliesApi) -> None:
    family = await api.family()
    first = await patch(api, family, {"version": 1, "phone": "05 59 44 44 44"})
    assert first.status == 200

    stale = await patch(api, family, {"version": 1, "city": "Anglet", **QUOTIENT})

    assert stale.status == 409
    problem = await stale.json()
    assert problem["type"].endswith("stale-version") and problem["current_version"] == 2
    after = await api.read_family(family["id"])
    assert (after["city"], after["quotient"], after["version"]) == ("Hasparren", None, 2)
    assert await updates(api, family) == [["phone"]]


async def test_put_quotient_still_answers_municipal_systems(api: FamiliesApi) -> None:
    family = await api.family()

    response = await api.client.put(
        f"/families/{family['id']}/quotient",
        json={"version": 1, **QUOTIENT},
        headers=api.system("families:write"),
    )

    assert response.status == 200, await response.text()
    assert (await response.json())["quotient"] == 640
    assert await updates(api, family) == [["quotient"]]
