"""POST /families/contacts: the name and phone of a staff list's families in one call and one
query (the attendance sheet's), to whom, and within the field policy."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from services.families.schemas import MAX_FAMILY_NAMES
from services.kit.keys import DATABASE

from .conftest import FamiliesApi


async def _contacts(
    api: FamiliesApi, ids: list[str], headers: dict[str, str]
) -> dict[str, dict[str, Any]]:
    response = await api.client.post("/families/contacts", json={"ids": ids}, headers=headers)
    assert response.status == 200, await response.text()
    return {f["id"]: f for f in (await response.json())["families"]}


@contextmanager
def families_queries(api: FamiliesApi) -> Iterator[list[str]]:
    """The statements that read the families table while the block runs."""
    engine = api.client.app[DATABASE].engine.sync_engine
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM families" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_staff_and_systems_read_names_and_phones_main_else_other(api: FamiliesApi) -> None:
    tag = uuid.uuid4().hex[:6]
    main = await api.family(name=f"TEL{tag}-A", phone="0559000001", phone_other="0612345678")
    other = await api.family(name=f"TEL{tag}-B", phone=None, phone_other="0612345678")
    none = await api.family(name=f"TEL{tag}-C", phone=None)
    ids = [main["id"], other["id"], none["id"]]
    expected = {
        main["id"]: {"id": main["id"], "name": main["name"], "phone": "05 59 00 00 01"},
        other["id"]: {"id": other["id"], "name": other["name"], "phone": "06 12 34 56 78"},
        none["id"]: {"id": none["id"], "name": none["name"], "phone": None},
    }

    with families_queries(api) as queries:
        read = await _contacts(api, [*ids, str(uuid.uuid4()), ids[0]], api.staff())
    assert read == expected
    assert len(queries) == 1, queries  # one query, whatever the number of families
    assert await _contacts(api, ids, api.system("families:read")) == expected
    assert await _contacts(api, [], api.staff()) == {}


async def test_a_phone_the_policy_hides_from_staff_is_not_given(api: FamiliesApi) -> None:
    family = await api.family(phone="0559000001", phone_other="0612345678")
    policy = await (await api.client.get("/staff/policy", headers=api.staff())).json()
    hide = [{"entity": "family", "field": "phone", "role": "staff", "access": "hidden"}]
    put = await api.client.put("/staff/policy", json={"rules": hide}, headers=api.staff())
    assert put.status == 200, await put.text()
    try:
        # As `GET /families/{id}` shows it: without the main phone, the other one.
        read = await _contacts(api, [family["id"]], api.staff())
        assert read[family["id"]]["phone"] == "06 12 34 56 78"
        assert "phone" not in await api.read_family(family["id"])
    finally:
        was = [
            {k: r[k] for k in ("entity", "field", "role", "access")}
            for r in policy["rules"]
            if (r["entity"], r["field"], r["role"]) == ("family", "phone", "staff")
        ]
        assert len(was) == 1
        restored = await api.client.put("/staff/policy", json={"rules": was}, headers=api.staff())
        assert restored.status == 200, await restored.text()


async def test_a_family_or_a_system_without_the_scope_is_refused(api: FamiliesApi) -> None:
    own, other = await api.family(), await api.family(phone="0559000009")
    ids = {"ids": [own["id"], other["id"]]}
    for headers in (api.parent(own["id"]), api.system("bookings:read")):
        refused = await api.client.post("/families/contacts", json=ids, headers=headers)
        assert refused.status == 403
        assert refused.content_type == "application/problem+json"
        assert "05 59 00 00 09" not in await refused.text()
    assert (await api.client.post("/families/contacts", json=ids)).status == 401


async def test_more_ids_than_the_bound_or_bad_ids_answer_422(api: FamiliesApi) -> None:
    family = await api.family()
    at_bound = [family["id"]] + [str(uuid.uuid4()) for _ in range(MAX_FAMILY_NAMES - 1)]
    assert list(await _contacts(api, at_bound, api.staff())) == [family["id"]]
    forged = (
        {"ids": ["\u0000"]}, {"ids": ["a\nb"]}, {"ids": [1]}, {"ids": "x"}, {"ids": None},
        {"ids": [""]}, {"ids": [[family["id"]]]}, {"ids": [family["id"]], "more": 1},
    )  # fmt: skip
    for body in ({"ids": [*at_bound, str(uuid.uuid4())]}, {"ids": ["x" * 37]}, {}, *forged):
        refused = await api.client.post("/families/contacts", json=body, headers=api.staff())
        assert refused.status == 422, body
        assert refused.content_type == "application/problem+json"
