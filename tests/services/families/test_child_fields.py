"""A child's record has no adult's field: no work phone, e-mail, « lien avec l'enfant »,
emergency contact or pick-up authorisation (docs/families.md, « Adult-only fields »).

The rules a child's record answers leave them out, whoever reads it and whatever the policy;
writing one on a child — a family's request, a staff edit or creation — is a 422 problem
naming each field, and nothing is saved. Adults (responsables, other contacts) keep them.
"""

from __future__ import annotations

import pytest

from .conftest import FamiliesApi
from .person_reads import offered, read_as_parent

ADULTS_ONLY = {"phone_work", "email", "relationship", "emergency_contact", "authorised_pickup"}
# One valid value per adult-only field: refused on a child, accepted on an adult.
ADULT_VALUES = {
    "phone_work": "05 59 11 22 33",
    "email": "lea@exemple.fr",
    "relationship": "sœur",
    "emergency_contact": True,
    "authorised_pickup": True,
}
NOT_FOR_A_CHILD = "Ce champ ne concerne pas un enfant."


async def test_a_childs_rules_leave_out_the_adult_fields_an_adults_keep_them(
    api: FamiliesApi,
) -> None:
    family = await api.family()
    child = await api.person(family["id"], birth_date="2012-04-02")
    parent = await api.person(family["id"], role="responsable", first_name="Maïa")
    contact = await api.person(family["id"], role="contact", first_name="Peio")
    for read in (api.read_person, lambda f, p: read_as_parent(api, f, p)):
        child_fields = offered(await read(family["id"], child["id"]))
        assert child_fields & ADULTS_ONLY == set()
        # A teenager may have a mobile; the child's own practical fields stay.
        assert {"phone_mobile", "allergies", "school", "first_name"} <= child_fields
        for adult in (parent, contact):
            assert ADULTS_ONLY <= offered(await read(family["id"], adult["id"]))


async def test_the_policy_marks_the_adult_fields_and_a_child_ignores_their_rule(
    api: FamiliesApi,
) -> None:
    policy = await (await api.client.get("/staff/policy", headers=api.staff())).json()
    marked = {r["field"] for r in policy["rules"] if r["adults_only"]}
    assert marked == ADULTS_ONLY
    assert all(r["entity"] == "person" for r in policy["rules"] if r["adults_only"])
    # Staff make the e-mail mandatory: an adult must give one, a child is still created without.
    changed = await api.client.put(
        "/staff/policy",
        json={"rules": [{"entity": "person", "field": "email", "role": "staff",
                         "access": "mandatory"}]},
        headers=api.staff(),
    )  # fmt: skip
    assert changed.status == 200, await changed.text()
    family = await api.family()
    child = await api.person(family["id"])
    assert "email" not in offered(await api.read_person(family["id"], child["id"]))
    adult = await api.client.post(
        f"/families/{family['id']}/persons",
        json={"role": "responsable", "first_name": "Maïa", "last_name": "Martin"},
        headers=api.staff(),
    )
    assert adult.status == 422
    assert (await adult.json())["errors"] == [
        {"field": "email", "message": "Ce champ est obligatoire."}
    ]


@pytest.mark.parametrize("field", sorted(ADULTS_ONLY))
async def test_a_familys_request_for_an_adult_field_of_a_child_is_refused_whole(
    api: FamiliesApi, field: str
) -> None:
    family = await api.family()
    child = await api.person(family["id"])
    response = await api.ask(
        family["id"],
        {"allergies": "Arachide", field: ADULT_VALUES[field]},
        version=child["version"],
        person_id=child["id"],
    )
    assert response.status == 422
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body = await response.json()
    assert body["errors"] == [{"field": f"changes.{field}", "message": NOT_FOR_A_CHILD}]
    listed = await api.client.get(f"/families/{family['id']}/requests", headers=api.staff())
    assert await listed.json() == []
    assert await api.events("family.change_requested", family_id=family["id"]) == []

    parent = await api.person(family["id"], role="responsable", first_name="Maïa")
    request = await api.requested(
        family["id"], {field: ADULT_VALUES[field]}, version=parent["version"],
        person_id=parent["id"],
    )  # fmt: skip
    accepted = await api.client.post(
        f"/staff/requests/{request['id']}/accept", json={}, headers=api.staff()
    )
    assert accepted.status == 200, await accepted.text()
    assert (await api.read_person(family["id"], parent["id"]))[field] == ADULT_VALUES[field]


async def test_staff_cannot_give_a_child_an_adult_field(api: FamiliesApi) -> None:
    family = await api.family()
    created = await api.client.post(
        f"/families/{family['id']}/persons",
        json={"role": "child", "first_name": "Léa", "last_name": "Martin", **ADULT_VALUES},
        headers=api.staff(),
    )
    assert created.status == 422
    assert created.headers["Content-Type"].startswith("application/problem+json")
    errors = (await created.json())["errors"]
    assert sorted(e["field"] for e in errors) == sorted(ADULTS_ONLY)
    assert {e["message"] for e in errors} == {NOT_FOR_A_CHILD}
    persons = f"/families/{family['id']}/persons"
    assert await (await api.client.get(persons, headers=api.staff())).json() == []

    child = await api.person(family["id"])
    edited = await api.client.patch(
        f"{persons}/{child['id']}",
        json={"version": child["version"], "relationship": "fils", "allergies": "Lait"},
        headers=api.staff(),
    )
    assert edited.status == 422
    assert (await edited.json())["errors"] == [
        {"field": "relationship", "message": NOT_FOR_A_CHILD}
    ]
    assert (await api.read_person(family["id"], child["id"]))["version"] == child["version"]

    adult = await api.person(family["id"], role="contact", first_name="Peio", **ADULT_VALUES)
    assert {k: adult[k] for k in ADULT_VALUES} == ADULT_VALUES


async def test_a_contact_made_a_child_must_shed_its_adult_values(api: FamiliesApi) -> None:
    family = await api.family()
    contact = await api.person(family["id"], role="contact", email="peio@exemple.fr")
    path = f"/families/{family['id']}/persons/{contact['id']}"
    kept = await api.client.patch(
        path, json={"version": contact["version"], "role": "child"}, headers=api.staff()
    )
    assert kept.status == 422
    assert (await kept.json())["errors"] == [
        {"field": "email", "message": "Videz ce champ : il ne concerne pas un enfant."}
    ]
    emptied = await api.client.patch(
        path,
        json={"version": contact["version"], "role": "child", "email": None},
        headers=api.staff(),
    )
    assert emptied.status == 200, await emptied.text()
    assert (await emptied.json())["email"] is None


async def test_a_request_filed_for_an_adult_is_not_applied_once_it_is_a_child(
    api: FamiliesApi,
) -> None:
    family = await api.family()
    contact = await api.person(family["id"], role="contact")
    request = await api.requested(
        family["id"], {"authorised_pickup": True}, version=contact["version"],
        person_id=contact["id"],
    )  # fmt: skip
    path = f"/families/{family['id']}/persons/{contact['id']}"
    made_child = await api.client.patch(
        path, json={"version": contact["version"], "role": "child"}, headers=api.staff()
    )
    assert made_child.status == 200, await made_child.text()
    accepted = await api.client.post(
        f"/staff/requests/{request['id']}/accept", json={}, headers=api.staff()
    )
    assert accepted.status == 422
    assert (await accepted.json())["errors"] == [
        {"field": "authorised_pickup", "message": NOT_FOR_A_CHILD}
    ]
    after = await api.read_person(family["id"], contact["id"])
    assert after["authorised_pickup"] is None
    refused = await api.client.post(
        f"/staff/requests/{request['id']}/refuse",
        json={"reason": "Léa est désormais enregistrée comme enfant."},
        headers=api.staff(),
    )
    assert refused.status == 200, await refused.text()
