"""An adult's record has no child's field: no school, class, doctor, diet, allergies, PAI,
vaccinations, photo authorisation or « partir seul(e) » (docs/families.md, « Child-only
fields »).

The rules an adult's record (a responsable's, another contact's) answers leave them out,
whoever reads it and whatever the policy; writing one on an adult — a family's request, a
staff edit or creation — is a 422 problem naming each field, and nothing is saved. Children
keep them all; the insurance stays on both (the parents' contract often covers the child).
"""

from __future__ import annotations

import pytest
from sqlalchemy import update

from services.families.models import Person
from services.kit.keys import DATABASE

from .conftest import FamiliesApi
from .person_reads import offered, read_as_parent

CHILDREN_ONLY = {
    "school", "school_class", "doctor_name", "doctor_phone", "diet", "allergies", "pai",
    "pai_end_date", "vaccination_dtp_date", "vaccination_ror_date", "photo_authorised",
    "may_leave_alone",
}  # fmt: skip
# One valid value per child-only field: refused on an adult, accepted on a child.
CHILD_VALUES = {
    "school": "École Jean Verdun",
    "school_class": "CE2",
    "doctor_name": "Dr Irigoyen",
    "doctor_phone": "05 59 29 11 11",
    "diet": "sans_porc",
    "allergies": "Arachide",
    "pai": True,
    "pai_end_date": "2027-07-03",
    "vaccination_dtp_date": "2021-03-01",
    "vaccination_ror_date": "2018-05-02",
    "photo_authorised": True,
    "may_leave_alone": True,
}
# The PAI is the structure's to record: a family only reads it (fields.py defaults).
FAMILY_WRITABLE = CHILDREN_ONLY - {"pai", "pai_end_date"}
NOT_FOR_AN_ADULT = "Ce champ ne concerne pas un adulte."


async def test_an_adults_rules_leave_out_the_child_fields_a_childs_keep_them(
    api: FamiliesApi,
) -> None:
    family = await api.family()
    child = await api.person(family["id"], birth_date="2016-04-02")
    parent = await api.person(family["id"], role="responsable", first_name="Maïa")
    contact = await api.person(family["id"], role="contact", first_name="Peio")
    for read in (api.read_person, lambda f, p: read_as_parent(api, f, p)):
        for adult in (parent, contact):
            adult_fields = offered(await read(family["id"], adult["id"]))
            assert adult_fields & CHILDREN_ONLY == set()
            # An adult's own details stay, and so does the insurance.
            assert {"email", "phone_work", "insurance_company", "first_name"} <= adult_fields
        child_fields = offered(await read(family["id"], child["id"]))
        assert (CHILDREN_ONLY & FAMILY_WRITABLE) <= child_fields
        assert "insurance_company" in child_fields
    assert CHILDREN_ONLY <= offered(await api.read_person(family["id"], child["id"]))


async def test_the_policy_marks_the_child_fields_and_an_adult_ignores_their_rule(
    api: FamiliesApi,
) -> None:
    policy = await (await api.client.get("/staff/policy", headers=api.staff())).json()
    marked = {r["field"] for r in policy["rules"] if r["children_only"]}
    assert marked == CHILDREN_ONLY
    assert all(r["entity"] == "person" for r in policy["rules"] if r["children_only"])
    assert not any(r["children_only"] and r["adults_only"] for r in policy["rules"])
    # Staff make the school mandatory: a child must have one, an adult is created without.
    changed = await api.client.put(
        "/staff/policy",
        json={"rules": [{"entity": "person", "field": "school", "role": "staff",
                         "access": "mandatory"}]},
        headers=api.staff(),
    )  # fmt: skip
    assert changed.status == 200, await changed.text()
    family = await api.family()
    adult = await api.person(family["id"], role="responsable", first_name="Maïa")
    assert "school" not in offered(await api.read_person(family["id"], adult["id"]))
    child = await api.client.post(
        f"/families/{family['id']}/persons",
        json={"role": "child", "first_name": "Léa", "last_name": "Martin"},
        headers=api.staff(),
    )
    assert child.status == 422
    assert (await child.json())["errors"] == [
        {"field": "school", "message": "Ce champ est obligatoire."}
    ]


@pytest.mark.parametrize("field", sorted(CHILDREN_ONLY))
async def test_a_familys_request_for_a_child_field_of_an_adult_is_refused_whole(
    api: FamiliesApi, field: str
) -> None:
    family = await api.family()
    parent = await api.person(family["id"], role="responsable", first_name="Maïa")
    response = await api.ask(
        family["id"],
        {"phone_mobile": "06 12 34 56 78", field: CHILD_VALUES[field]},
        version=parent["version"],
        person_id=parent["id"],
    )
    assert response.status == 422
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body = await response.json()
    assert body["errors"] == [{"field": f"changes.{field}", "message": NOT_FOR_AN_ADULT}]
    listed = await api.client.get(f"/families/{family['id']}/requests", headers=api.staff())
    assert await listed.json() == []
    assert await api.events("family.change_requested", family_id=family["id"]) == []

    if field not in FAMILY_WRITABLE:
        return
    child = await api.person(family["id"])
    request = await api.requested(
        family["id"], {field: CHILD_VALUES[field]}, version=child["version"],
        person_id=child["id"],
    )  # fmt: skip
    accepted = await api.client.post(
        f"/staff/requests/{request['id']}/accept", json={}, headers=api.staff()
    )
    assert accepted.status == 200, await accepted.text()
    assert (await api.read_person(family["id"], child["id"]))[field] == CHILD_VALUES[field]


async def test_staff_cannot_give_an_adult_a_child_field(api: FamiliesApi) -> None:
    family = await api.family()
    persons = f"/families/{family['id']}/persons"
    for role in ("responsable", "contact"):
        created = await api.client.post(
            persons,
            json={"role": role, "first_name": "Maïa", "last_name": "Martin", **CHILD_VALUES},
            headers=api.staff(),
        )
        assert created.status == 422
        assert created.headers["Content-Type"].startswith("application/problem+json")
        errors = (await created.json())["errors"]
        assert sorted(e["field"] for e in errors) == sorted(CHILDREN_ONLY)
        assert {e["message"] for e in errors} == {NOT_FOR_AN_ADULT}
    assert await (await api.client.get(persons, headers=api.staff())).json() == []

    parent = await api.person(family["id"], role="responsable", first_name="Maïa")
    edited = await api.client.patch(
        f"{persons}/{parent['id']}",
        json={
            "version": parent["version"],
            "photo_authorised": True,
            "phone_work": "05 59 11 22 33",
        },
        headers=api.staff(),
    )
    assert edited.status == 422
    assert (await edited.json())["errors"] == [
        {"field": "photo_authorised", "message": NOT_FOR_AN_ADULT}
    ]
    after = await api.read_person(family["id"], parent["id"])
    assert (after["version"], after["phone_work"]) == (parent["version"], None)

    child = await api.person(family["id"], **CHILD_VALUES)
    assert {k: child[k] for k in CHILD_VALUES} == CHILD_VALUES


async def test_a_child_made_a_contact_must_shed_its_child_values(api: FamiliesApi) -> None:
    family = await api.family()
    child = await api.person(family["id"], school="Collège Ursuya", allergies="Lait")
    path = f"/families/{family['id']}/persons/{child['id']}"
    kept = await api.client.patch(
        path, json={"version": child["version"], "role": "contact"}, headers=api.staff()
    )
    assert kept.status == 422
    assert sorted((await kept.json())["errors"], key=lambda e: e["field"]) == [
        {"field": "allergies", "message": "Videz ce champ : il ne concerne pas un adulte."},
        {"field": "school", "message": "Videz ce champ : il ne concerne pas un adulte."},
    ]
    emptied = await api.client.patch(
        path,
        json={"version": child["version"], "role": "contact", "school": None, "allergies": None},
        headers=api.staff(),
    )
    assert emptied.status == 200, await emptied.text()
    body = await emptied.json()
    assert (body["role"], body["school"], body["allergies"]) == ("contact", None, None)


async def test_a_request_filed_for_a_child_is_not_applied_once_it_is_an_adult(
    api: FamiliesApi,
) -> None:
    family = await api.family()
    child = await api.person(family["id"])
    request = await api.requested(
        family["id"], {"may_leave_alone": True}, version=child["version"], person_id=child["id"]
    )
    path = f"/families/{family['id']}/persons/{child['id']}"
    made_adult = await api.client.patch(
        path, json={"version": child["version"], "role": "contact"}, headers=api.staff()
    )
    assert made_adult.status == 200, await made_adult.text()
    accepted = await api.client.post(
        f"/staff/requests/{request['id']}/accept", json={}, headers=api.staff()
    )
    assert accepted.status == 422
    assert (await accepted.json())["errors"] == [
        {"field": "may_leave_alone", "message": NOT_FOR_AN_ADULT}
    ]
    after = await api.read_person(family["id"], child["id"])
    assert after["may_leave_alone"] is None
    refused = await api.client.post(
        f"/staff/requests/{request['id']}/refuse",
        json={"reason": "Léa est désormais enregistrée comme contact."},
        headers=api.staff(),
    )
    assert refused.status == 200, await refused.text()


@pytest.mark.parametrize(
    ("role", "stored", "edit"),
    [
        ("responsable", {"allergies": "Pollen"}, {"phone_work": "05 59 11 22 33"}),
        ("child", {"email": "lea@exemple.fr"}, {"school": "École Jean Verdun"}),
    ],
)
async def test_a_value_stored_before_the_rules_does_not_block_other_edits(
    api: FamiliesApi, role: str, stored: dict[str, str], edit: dict[str, str]
) -> None:
    """No migration: an allergy typed on a parent before (or a child's e-mail) stays stored,
    shown by no form, and staff still edit the person's other fields (a form could not empty
    it)."""
    family = await api.family()
    person = await api.person(family["id"], role=role, first_name="Maïa")
    async with api.client.app[DATABASE].transaction() as session:
        await session.execute(update(Person).where(Person.id == person["id"]).values(**stored))
    path = f"/families/{family['id']}/persons/{person['id']}"
    edited = await api.client.patch(
        path, json={"version": person["version"], **edit}, headers=api.staff()
    )
    assert edited.status == 200, await edited.text()
    after = await api.read_person(family["id"], person["id"])
    assert {k: after[k] for k in {**stored, **edit}} == {**stored, **edit}
    assert not set(stored) & offered(after)
