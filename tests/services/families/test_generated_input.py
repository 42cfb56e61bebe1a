"""Generated input never makes the service fail: 4xx with reasons, never 5xx (promise 29)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.families.fields import CATALOGUE

from .conftest import FamiliesApi

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)  # fmt: skip
FIELD_NAMES = st.sampled_from(
    sorted({*CATALOGUE["family"], *CATALOGUE["person"], "id", "version", "x\x00y", ""})
)


async def test_odd_ids_in_paths_answer_404_not_500(api: FamiliesApi) -> None:
    family = await api.family()
    fid = family["id"]
    for path in (
        "/families/a%00b",
        f"/families/{fid}/persons/a%00b",
        f"/families/{fid}/requests/%01",
        "/families/" + "x" * 300,
        "/staff/requests/a%00b",
    ):
        response = await api.client.get(path, headers=api.staff())
        assert response.status in (400, 404), path  # refused before or by the route, not a 500
    search = await api.client.get("/staff/families", params={"q": "ab\x00"}, headers=api.staff())
    assert search.status in (400, 422)
    state = await api.client.get(
        f"/families/{fid}/requests", params={"state": "x\x00"}, headers=api.staff()
    )
    assert state.status in (400, 422)


async def test_generated_change_requests_never_fail_the_service(api: FamiliesApi) -> None:
    family = await api.family()
    child = await api.person(family["id"])
    outcomes: set[int] = set()

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        target=st.sampled_from(["family", "person", "other", 3]),
        version=st.one_of(st.integers(), st.text(max_size=5), st.none()),
        changes=st.dictionaries(FIELD_NAMES, JSON_VALUES, max_size=5),
    )
    def run(target: Any, version: Any, changes: dict[str, Any]) -> None:
        body = {"target": target, "version": version, "changes": changes}
        if target == "person":
            body["person_id"] = child["id"]
        examples.append(body)

    examples: list[dict[str, Any]] = []
    run()
    for body in examples:
        response = await api.client.post(
            f"/families/{family['id']}/requests", json=body, headers=api.parent(family["id"])
        )
        assert response.status < 500, (body, await response.text())
        outcomes.add(response.status)
        if response.status == 201:  # free the fields for the next examples
            created = await response.json()
            await api.client.post(
                f"/families/{family['id']}/requests/{created['id']}/withdraw",
                headers=api.parent(family["id"]),
            )
    assert 422 in outcomes
