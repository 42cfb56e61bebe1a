"""The RGPD export holds the family's own data only; the tables hold only NS-058 categories."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from portail.demo import DEMO_CHILD_ID, DEMO_FAMILY_ID, DEMO_PARENT_ID
from services.families.models import Base, Family, FamilyMember
from services.families.seed import seed_demo
from services.kit.keys import DATABASE

from .conftest import FamiliesApi


async def test_the_export_holds_the_family_and_nothing_of_another(api: FamiliesApi) -> None:
    mine = await api.family(name="EXPORT-A")
    theirs = await api.family(name="EXPORT-B", email="secret-b@exemple.fr")
    child = await api.person(mine["id"], first_name="Partagé")
    await api.client.post(
        f"/families/{theirs['id']}/members", json={"person_id": child["id"]}, headers=api.staff()
    )
    their_parent = await api.person(theirs["id"], role="responsable", first_name="Secret")
    my_request = await api.requested(mine["id"], {"city": "Pau"}, version=1)
    their_request = await api.requested(theirs["id"], {"city": "Dax"}, version=1)

    response = await api.client.get(
        f"/families/{mine['id']}/export", headers=api.parent(mine["id"])
    )
    assert response.status == 200
    assert "attachment" in response.headers["Content-Disposition"]
    export = await response.json()
    assert export["service"] == "families"
    assert export["family"]["id"] == mine["id"]
    assert [p["id"] for p in export["persons"]] == [child["id"]]
    assert [r["id"] for r in export["change_requests"]] == [my_request["id"]]
    [journaled] = await api.events("family.exported", family_id=mine["id"])
    assert journaled["data"] == {"family_id": mine["id"], "by": f"parent-{mine['id']}",
                                 "role": "family"}  # fmt: skip
    text = json.dumps(export)
    for foreign in (theirs["id"], "EXPORT-B", "secret-b@exemple.fr", their_parent["id"],
                    "Secret", their_request["id"], "Dax"):  # fmt: skip
        assert foreign not in text


async def test_no_column_for_religion_or_the_nature_of_a_handicap() -> None:
    names = [c.name.lower() for t in Base.metadata.tables.values() for c in t.columns]
    forbidden = ("relig", "confession", "culte", "handicap", "disab", "infirm")
    assert not [n for n in names if any(word in n for word in forbidden)]


async def test_the_demo_seed_is_idempotent(api: FamiliesApi) -> None:
    database = api.client.app[DATABASE]
    await seed_demo(database)
    await seed_demo(database)
    async with database.sessions() as session:
        families = await session.scalar(
            select(func.count()).select_from(Family).where(Family.id == DEMO_FAMILY_ID)
        )
        members = (
            await session.scalars(
                select(FamilyMember.person_id).where(FamilyMember.family_id == DEMO_FAMILY_ID)
            )
        ).all()
    assert families == 1
    assert sorted(members) == sorted([DEMO_PARENT_ID, DEMO_CHILD_ID])
    child = await api.client.get(
        f"/families/{DEMO_FAMILY_ID}/persons/{DEMO_CHILD_ID}", headers=api.parent(DEMO_FAMILY_ID)
    )
    assert (await child.json())["first_name"] == "Enfant"
