"""No cross-family access: every route that takes an id, as family A with B's ids, as a parent
on staff routes, and anonymously, succeeds zero times (promise 18)."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import FamiliesApi

Route = tuple[str, str, Any]


async def _two_families(api: FamiliesApi) -> dict[str, str]:
    a = await api.family()
    b = await api.family()
    person_a = await api.person(a["id"])
    person_b = await api.person(b["id"], first_name="Zoé")
    request_a = await api.requested(a["id"], {"city": "Bayonne"}, version=a["version"])
    request_b = await api.requested(b["id"], {"city": "Biarritz"}, version=b["version"])
    return {
        "A": a["id"],
        "B": b["id"],
        "pA": person_a["id"],
        "pB": person_b["id"],
        "rA": request_a["id"],
        "rB": request_b["id"],
    }


def family_routes_with_foreign_ids(ids: dict[str, str]) -> list[Route]:
    """Every family-facing route, called by a parent of A, aimed at B's data."""
    a, b, pa, pb, rb = ids["A"], ids["B"], ids["pA"], ids["pB"], ids["rB"]
    change = {"target": "family", "version": 1, "changes": {"city": "Pau"}}
    person_change = {"target": "person", "person_id": pb, "version": 1,
                     "changes": {"school_class": "CM2"}}  # fmt: skip
    return [
        ("GET", f"/families/{b}", None),
        ("GET", f"/families/{b}/persons", None),
        ("GET", f"/families/{b}/persons/{pb}", None),
        ("GET", f"/families/{a}/persons/{pb}", None),
        ("GET", f"/families/{b}/persons/{pa}", None),
        ("POST", f"/families/{b}/requests", change),
        ("POST", f"/families/{a}/requests", person_change),
        ("GET", f"/families/{b}/requests", None),
        ("GET", f"/families/{b}/requests/{rb}", None),
        ("GET", f"/families/{a}/requests/{rb}", None),
        ("POST", f"/families/{b}/requests/{rb}/withdraw", None),
        ("POST", f"/families/{a}/requests/{rb}/withdraw", None),
        ("GET", f"/families/{b}/export", None),
        ("GET", f"/dashboard/{b}", None),
    ]


def staff_routes(ids: dict[str, str]) -> list[Route]:
    """Every route reserved to staff or municipal systems, aimed at A's own data."""
    a, pa, ra = ids["A"], ids["pA"], ids["rA"]
    return [
        ("POST", "/families", {"name": "X"}),
        ("PATCH", f"/families/{a}", {"version": 1, "city": "Pau"}),
        ("PUT", f"/families/{a}/quotient",
         {"version": 1, "quotient": 1, "quotient_date": "2026-01-01", "quotient_source": "CAF"}),
        ("POST", f"/families/{a}/persons", {"role": "child", "first_name": "X", "last_name": "Y"}),
        ("PATCH", f"/families/{a}/persons/{pa}", {"version": 1, "first_name": "Autre"}),
        ("POST", f"/families/{a}/members", {"person_id": ids["pB"]}),
        ("GET", "/changes?since=2020-01-01T00:00:00Z", None),
        ("POST", "/families/names", {"ids": [a, ids["B"]]}),
        ("POST", "/families/contacts", {"ids": [a, ids["B"]]}),
        ("GET", "/staff/families?q=FAM", None),
        ("GET", "/staff/requests", None),
        ("GET", f"/staff/requests/{ra}", None),
        ("POST", f"/staff/requests/{ra}/accept", {}),
        ("POST", f"/staff/requests/{ra}/refuse", {"reason": "non"}),
        ("POST", "/staff/requests/batch", {"request_ids": [ra], "decision": "accept"}),
        ("GET", "/staff/policy", None),
        ("PUT", "/staff/policy",
         {"rules": [{"entity": "family", "field": "city", "role": "family", "access": "read"}]}),
    ]  # fmt: skip


async def _call(api: FamiliesApi, route: Route, headers: dict[str, str]) -> Any:
    method, path, body = route
    return await api.client.request(method, path, json=body, headers=headers)


async def _nothing_changed(api: FamiliesApi, ids: dict[str, str]) -> None:
    for key in ("rA", "rB"):
        request = await (
            await api.client.get(f"/staff/requests/{ids[key]}", headers=api.staff())
        ).json()
        assert request["state"] == "pending"
    for family in ("A", "B"):
        record = await api.read_family(ids[family])
        assert record["version"] == 1 and record["city"] == "Hasparren"
    persons = await (
        await api.client.get(f"/families/{ids['A']}/persons", headers=api.staff())
    ).json()
    assert [p["id"] for p in persons] == [ids["pA"]]


async def test_family_a_reaches_nothing_of_family_b(api: FamiliesApi) -> None:
    ids = await _two_families(api)
    outcomes = {
        f"{m} {p}": (await _call(api, (m, p, b), api.parent(ids["A"]))).status
        for m, p, b in family_routes_with_foreign_ids(ids)
    }
    assert set(outcomes.values()) == {404}, outcomes
    await _nothing_changed(api, ids)


async def test_a_parent_is_refused_every_staff_route(api: FamiliesApi) -> None:
    ids = await _two_families(api)
    outcomes = {
        f"{m} {p}": (await _call(api, (m, p, b), api.parent(ids["A"]))).status
        for m, p, b in staff_routes(ids)
    }
    assert set(outcomes.values()) == {403}, outcomes
    await _nothing_changed(api, ids)


async def test_anonymous_callers_are_refused_everywhere(api: FamiliesApi) -> None:
    ids = await _two_families(api)
    routes = (
        family_routes_with_foreign_ids(ids) + staff_routes(ids) + [("GET", "/me/families", None)]
    )
    outcomes = {f"{m} {p}": (await _call(api, (m, p, b), {})).status for m, p, b in routes}
    assert set(outcomes.values()) == {401}, outcomes
    await _nothing_changed(api, ids)


async def test_staff_cannot_make_requests_in_a_familys_name(api: FamiliesApi) -> None:
    ids = await _two_families(api)
    response = await api.client.post(
        f"/families/{ids['A']}/requests",
        json={"target": "family", "version": 1, "changes": {"city": "Pau"}},
        headers=api.staff(),
    )
    assert response.status == 403


async def test_an_account_without_the_edit_right_cannot_ask_for_changes(api: FamiliesApi) -> None:
    family = await api.family()
    response = await api.client.post(
        f"/families/{family['id']}/requests",
        json={"target": "family", "version": 1, "changes": {"city": "Pau"}},
        headers=api.parent(family["id"], rights=["book"]),
    )
    assert response.status == 403
    readable = await api.client.get(
        f"/families/{family['id']}", headers=api.parent(family["id"], rights=["book"])
    )
    assert readable.status == 200


@pytest.mark.parametrize(
    ("foreign", "missing"),
    [
        ("/families/{B}", "/families/no-such-family"),
        ("/families/{A}/persons/{pB}", "/families/{A}/persons/no-such-person"),
        ("/families/{A}/requests/{rB}", "/families/{A}/requests/no-such-request"),
        ("/families/{B}/export", "/families/no-such-family/export"),
    ],
)
async def test_a_foreign_id_answers_exactly_like_a_missing_one(
    api: FamiliesApi, foreign: str, missing: str
) -> None:
    ids = await _two_families(api)
    headers = api.parent(ids["A"])
    one = await api.client.get(foreign.format(**ids), headers=headers)
    two = await api.client.get(missing.format(**ids), headers=headers)
    assert one.status == two.status == 404
    first, second = await one.json(), await two.json()
    first.pop("instance"), second.pop("instance")
    assert first == second


async def test_municipal_systems_need_their_scopes(api: FamiliesApi) -> None:
    ids = await _two_families(api)
    reader = api.system("families:read")
    nobody = api.system()
    assert (await api.client.get(f"/families/{ids['B']}", headers=reader)).status == 200
    assert (await api.client.get(f"/families/{ids['B']}", headers=nobody)).status == 403
    assert (
        await api.client.get("/changes?since=2020-01-01T00:00:00Z", headers=nobody)
    ).status == 403
    write = await api.client.post("/families", json={"name": "X"}, headers=reader)
    assert write.status == 403
    queue = await api.client.get("/staff/requests", headers=api.system("families:write"))
    assert queue.status == 403
