"""Families never write protected fields; a request carrying one is refused whole (promise 19)."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import FamiliesApi


async def _nothing_saved(api: FamiliesApi, family: dict[str, Any]) -> None:
    fid = family["id"]
    listed = await (await api.client.get(f"/families/{fid}/requests", headers=api.staff())).json()
    assert listed == []
    assert await api.events("family.change_requested", family_id=fid) == []
    after = await api.read_family(fid)
    assert after["version"] == family["version"]
    assert after["phone"] == family["phone"]


@pytest.mark.parametrize(
    "protected",
    [
        {"quotient": 400},
        {"quotient_date": "2026-01-01"},
        {"quotient_source": "CAF"},
        {"status": "archived"},
        {"billing_person_id": "someone"},
        {"id": "another-id"},
        {"version": 9},
        {"family_id": "another-family"},
    ],
)
async def test_a_request_with_a_protected_field_is_refused_whole(
    api: FamiliesApi, protected: dict[str, Any]
) -> None:
    family = await api.family()
    changes = {"phone": "06 11 22 33 44", **protected}
    response = await api.ask(family["id"], changes, version=family["version"])
    assert response.status == 422
    body = await response.json()
    [name] = protected
    assert body["errors"] == [
        {
            "field": f"changes.{name}",
            "message": "Champ protégé : seule la structure peut le modifier.",
        }
    ]
    await _nothing_saved(api, family)


async def test_a_persons_role_and_read_only_identity_are_not_writable(api: FamiliesApi) -> None:
    family = await api.family()
    child = await api.person(family["id"])
    response = await api.ask(
        family["id"],
        {"role": "responsable", "first_name": "Autre", "allergies": "Lait"},
        version=child["version"],
        person_id=child["id"],
    )
    assert response.status == 422
    errors = {e["field"]: e["message"] for e in (await response.json())["errors"]}
    assert errors == {
        "changes.role": "Champ protégé : seule la structure peut le modifier.",
        "changes.first_name": "Ce champ n'est pas modifiable en ligne.",
    }
    assert (await api.read_person(family["id"], child["id"]))["allergies"] is None


async def test_unknown_fields_are_refused_by_name(api: FamiliesApi) -> None:
    family = await api.family()
    response = await api.ask(
        family["id"], {"religion": "x", "phone": "06 11 22 33 44"}, version=family["version"]
    )
    assert response.status == 422
    assert (await response.json())["errors"] == [
        {"field": "changes.religion", "message": "Champ inconnu."}
    ]
    await _nothing_saved(api, family)


async def test_staff_cannot_open_a_protected_field_to_families(api: FamiliesApi) -> None:
    response = await api.client.put(
        "/staff/policy",
        json={
            "rules": [
                {"entity": "family", "field": "phone", "role": "family", "access": "read"},
                {"entity": "family", "field": "quotient", "role": "family", "access": "edit"},
            ]
        },
        headers=api.staff(),
    )
    assert response.status == 422
    assert (await response.json())["errors"] == [
        {
            "field": "rules.1.access",
            "message": "Champ protégé : une famille ne peut pas le modifier.",
        }
    ]
    policy = await (await api.client.get("/staff/policy", headers=api.staff())).json()
    phone = next(
        r for r in policy["rules"]
        if (r["entity"], r["field"], r["role"]) == ("family", "phone", "family")
    )  # fmt: skip
    assert phone["access"] == "edit"  # all or nothing: the valid rule was not stored either


async def test_the_policy_decides_what_families_see_and_write(api: FamiliesApi) -> None:
    family = await api.family(allocataire_number="1234567")
    fid = family["id"]
    mine = await (await api.client.get(f"/families/{fid}", headers=api.parent(fid))).json()
    rules = {r["field"]: r for r in mine["fields"]}
    assert rules["address"]["mandatory"] is True  # shown with * on the page
    assert rules["phone"] == {
        "field": "phone", "label": "Téléphone du domicile", "access": "edit", "mandatory": False
    }  # fmt: skip
    assert rules["quotient"]["access"] == "read"
    assert "status" not in rules and "status" not in mine  # hidden from families by default

    updated = await api.client.put(
        "/staff/policy",
        json={
            "rules": [
                {"entity": "family", "field": "phone", "role": "family", "access": "read"},
                {"entity": "family", "field": "allocataire_number", "role": "family",
                 "access": "hidden"},
                {"entity": "family", "field": "phone_other", "role": "family",
                 "access": "mandatory"},
            ]
        },
        headers=api.staff(),
    )  # fmt: skip
    assert updated.status == 200

    refused = await api.ask(fid, {"phone": "06 11 22 33 44"}, version=family["version"])
    assert refused.status == 422
    assert (await refused.json())["errors"][0][
        "message"
    ] == "Ce champ n'est pas modifiable en ligne."
    empty = await api.ask(fid, {"phone_other": ""}, version=family["version"])
    assert empty.status == 422
    assert (await empty.json())["errors"] == [
        {"field": "changes.phone_other", "message": "Ce champ est obligatoire."}
    ]
    mine = await (await api.client.get(f"/families/{fid}", headers=api.parent(fid))).json()
    assert "allocataire_number" not in mine
    assert {r["field"]: r["mandatory"] for r in mine["fields"]}["phone_other"] is True
    staff_view = await api.read_family(fid)
    assert staff_view["allocataire_number"] == "1234567"


async def test_a_mandatory_field_cannot_be_emptied(api: FamiliesApi) -> None:
    family = await api.family()
    response = await api.ask(family["id"], {"address": "  "}, version=family["version"])
    assert response.status == 422
    assert (await response.json())["errors"] == [
        {"field": "changes.address", "message": "Ce champ est obligatoire."}
    ]
