"""POST /families/names: the names of a staff list's families in one call, and to whom."""

from __future__ import annotations

import uuid

from services.families.schemas import MAX_FAMILY_NAMES

from .conftest import FamiliesApi


async def _names(api: FamiliesApi, ids: list[str], headers: dict[str, str]) -> dict[str, str]:
    response = await api.client.post("/families/names", json={"ids": ids}, headers=headers)
    assert response.status == 200, await response.text()
    return {f["id"]: f["name"] for f in (await response.json())["families"]}


async def test_staff_and_municipal_systems_read_many_names_at_once(api: FamiliesApi) -> None:
    tag = uuid.uuid4().hex[:6]
    families = [await api.family(name=f"NOM{tag}-{n}") for n in range(3)]
    ids = [f["id"] for f in families]
    expected = {f["id"]: f["name"] for f in families}

    unknown = str(uuid.uuid4())
    assert await _names(api, [*ids, unknown, ids[0]], api.staff()) == expected
    assert await _names(api, ids, api.system("families:read")) == expected
    assert await _names(api, [unknown], api.staff()) == {}
    assert await _names(api, [], api.staff()) == {}


async def test_a_family_or_a_system_without_the_scope_is_refused(api: FamiliesApi) -> None:
    own, other = await api.family(), await api.family()
    ids = {"ids": [own["id"], other["id"]]}
    for headers in (api.parent(own["id"]), api.system("bookings:read")):
        refused = await api.client.post("/families/names", json=ids, headers=headers)
        assert refused.status == 403
        assert refused.content_type == "application/problem+json"
        assert other["name"] not in await refused.text()
    anonymous = await api.client.post("/families/names", json=ids)
    assert anonymous.status == 401


async def test_more_ids_than_the_bound_or_bad_ids_answer_422(api: FamiliesApi) -> None:
    family = await api.family()
    at_bound = [family["id"]] + [str(uuid.uuid4()) for _ in range(MAX_FAMILY_NAMES - 1)]
    assert await _names(api, at_bound, api.staff()) == {family["id"]: family["name"]}

    for body in (
        {"ids": [*at_bound, str(uuid.uuid4())]},
        {"ids": ["x" * 37]},
        {"ids": [""]},
        {"ids": "un-seul"},
        {},
        {"ids": [], "more": 1},
    ):
        refused = await api.client.post("/families/names", json=body, headers=api.staff())
        assert refused.status == 422, body
        assert refused.content_type == "application/problem+json"
    too_many = await api.client.post(
        "/families/names", json={"ids": [*at_bound, "one-more"]}, headers=api.staff()
    )
    assert (await too_many.json())["errors"] == [
        {"field": "ids", "message": f"Trop d'éléments : {MAX_FAMILY_NAMES} au plus."}
    ]
