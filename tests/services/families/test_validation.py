"""Bad input gets precise per-field messages, in French, and nothing is half-saved."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from services.families.formats import today_in_paris

from .conftest import FamiliesApi


async def _errors(response: Any) -> dict[str, str]:
    assert response.status == 422, await response.text()
    assert response.headers["Content-Type"].startswith("application/problem+json")
    return {e["field"]: e["message"] for e in (await response.json())["errors"]}


async def test_a_child_born_in_the_future_is_refused(api: FamiliesApi) -> None:
    family = await api.family()
    tomorrow = (today_in_paris() + timedelta(days=1)).isoformat()
    response = await api.client.post(
        f"/families/{family['id']}/persons",
        json={
            "role": "child",
            "first_name": "Futur",
            "last_name": "Enfant",
            "birth_date": tomorrow,
        },
        headers=api.staff(),
    )
    assert await _errors(response) == {
        "birth_date": "La date de naissance ne peut pas être dans le futur."
    }
    persons = await (
        await api.client.get(f"/families/{family['id']}/persons", headers=api.staff())
    ).json()
    assert persons == []


@pytest.mark.parametrize("hidden", ["\u202e", "\u2066", "\u200b", "\ufeff"])
async def test_a_name_with_an_invisible_character_is_refused(api: FamiliesApi, hidden: str) -> None:
    # « TEST\u202eTSET » reads « TESTTEST » on staff's screens: a disguised name.
    family = await api.family()
    response = await api.client.post(
        f"/families/{family['id']}/persons",
        json={"role": "child", "first_name": f"TEST{hidden}TSET", "last_name": "Enfant"},
        headers=api.staff(),
    )
    assert await _errors(response) == {
        "first_name": "Caractères invisibles interdits (sens d'écriture, espaces sans largeur)."
    }
    persons = await (
        await api.client.get(f"/families/{family['id']}/persons", headers=api.staff())
    ).json()
    assert persons == []


async def test_a_name_with_joiners_is_kept(api: FamiliesApi) -> None:
    # Joiners are part of how some scripts and emoji are written, not a disguise.
    family = await api.family()
    response = await api.client.post(
        f"/families/{family['id']}/persons",
        json={"role": "child", "first_name": "Nāz\u200cnīn", "last_name": "Enfant"},
        headers=api.staff(),
    )
    assert response.status == 201, await response.text()
    assert (await response.json())["first_name"] == "Nāz\u200cnīn"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"postal_code": "6424"}, "changes.postal_code",
         "Code postal invalide : 5 chiffres, par exemple 64240."),
        ({"phone": "12 34"}, "changes.phone",
         "Numéro de téléphone invalide : 10 chiffres, par exemple 06 12 34 56 78."),
        ({"email": "pas-un-courriel"}, "changes.email",
         "Adresse électronique invalide, par exemple nom@exemple.fr."),
        ({"city": 64240}, "changes.city", "Texte attendu."),
        ({"address": "x" * 201}, "changes.address", "Trop long : 200 caractères au plus."),
        ({"allocataire_regime": "URSSAF"}, "changes.allocataire_regime",
         "Valeur non autorisée ; valeurs possibles : 'CAF', 'MSA' or 'autre'."),
    ],
)  # fmt: skip
async def test_a_family_request_with_a_bad_value_names_the_field(
    api: FamiliesApi, changes: dict[str, Any], field: str, message: str
) -> None:
    family = await api.family()
    response = await api.ask(family["id"], {**changes, "city": changes.get("city", "Pau")},
                             version=family["version"])  # fmt: skip
    assert (await _errors(response)) == {field: message}
    assert await api.events("family.change_requested", family_id=family["id"]) == []


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"vaccination_dtp_date": "2020-02-30"}, "changes.vaccination_dtp_date",
         "Date invalide : format AAAA-MM-JJ attendu."),
        ({"vaccination_dtp_date": "3020-01-01"}, "changes.vaccination_dtp_date",
         "Cette date ne peut pas être dans le futur."),
        ({"photo_authorised": "peut-être"}, "changes.photo_authorised",
         "Oui ou non attendu (true ou false)."),
        ({"diet": "halal"}, "changes.diet",
         "Valeur non autorisée ; valeurs possibles : 'standard', 'sans_porc', 'sans_viande' or "
         "'vegetarien'."),
        ({"allergies": "a" * 501}, "changes.allergies", "Trop long : 500 caractères au plus."),
    ],
)  # fmt: skip
async def test_a_person_request_with_a_bad_value_names_the_field(
    api: FamiliesApi, changes: dict[str, Any], field: str, message: str
) -> None:
    family = await api.family()
    child = await api.person(family["id"])
    response = await api.ask(family["id"], changes, version=child["version"], person_id=child["id"])
    assert (await _errors(response)) == {field: message}


async def test_phone_numbers_are_stored_normalised(api: FamiliesApi) -> None:
    family = await api.family(phone="+33559290000", postal_code="64 240")
    assert (family["phone"], family["postal_code"]) == ("05 59 29 00 00", "64240")


async def test_request_envelope_errors_are_per_field(api: FamiliesApi) -> None:
    family = await api.family()
    response = await api.client.post(
        f"/families/{family['id']}/requests",
        json={"target": "household", "version": "un", "changes": {}, "extra": 1},
        headers=api.parent(family["id"]),
    )
    errors = await _errors(response)
    assert set(errors) == {"target", "version", "changes", "extra"}
    assert errors["extra"] == "Champ inconnu."


async def test_too_many_fields_in_one_request_are_refused(api: FamiliesApi) -> None:
    family = await api.family()
    changes = {f"field{i}": "x" for i in range(41)}
    response = await api.ask(family["id"], changes, version=family["version"])
    assert (await _errors(response)) == {"changes": "Trop d'éléments : 40 au plus."}


async def test_a_person_request_needs_its_person(api: FamiliesApi) -> None:
    family = await api.family()
    response = await api.client.post(
        f"/families/{family['id']}/requests",
        json={"target": "person", "version": 1, "changes": {"school": "X"}},
        headers=api.parent(family["id"]),
    )
    assert (await _errors(response)) == {
        "body": "person_id est obligatoire pour modifier une personne."
    }


async def test_staff_creation_needs_the_mandatory_fields(api: FamiliesApi) -> None:
    family = await api.family()
    response = await api.client.post(
        f"/families/{family['id']}/persons",
        json={"role": "child", "first_name": "", "last_name": "Martin"},
        headers=api.staff(),
    )
    assert (await _errors(response)) == {"first_name": "Ce champ ne peut pas être vide."}


async def test_the_search_page_size_is_capped(api: FamiliesApi) -> None:
    response = await api.client.get("/staff/families?q=FAM&size=1000", headers=api.staff())
    assert response.status == 200
    assert (await response.json())["size"] == 50
    short = await api.client.get("/staff/families?q=a", headers=api.staff())
    assert (await _errors(short)) == {"q": "Ce champ est trop court."}


async def test_a_body_nested_too_deeply_is_a_400_not_a_500(api: FamiliesApi) -> None:
    deep = b"[" * 30_000 + b"]" * 30_000  # 60 KB: under the gateway's 64 KiB limit
    response = await api.client.post(
        "/families", data=deep, headers={**api.staff(), "Content-Type": "application/json"}
    )
    assert response.status == 400, await response.text()
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert "nests too deeply" in (await response.json())["detail"]


async def test_an_integer_too_long_to_convert_is_a_400_not_a_500(api: FamiliesApi) -> None:
    long_number = b'{"name": ' + b"9" * 5_000 + b"}"  # int() refuses over 4,300 digits
    response = await api.client.post(
        "/families", data=long_number, headers={**api.staff(), "Content-Type": "application/json"}
    )
    assert response.status == 400, await response.text()
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert "too long" in (await response.json())["detail"]
