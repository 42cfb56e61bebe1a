"""`portail families-inapplicable-fields`: values stored before fields.ADULTS_ONLY and
CHILDREN_ONLY (an allergy on a parent, an e-mail on a child) are listed by a dry run that
changes nothing, emptied by `--apply` (one transaction per person, a `person.updated` event
per household, by « maintenance »), and a second run finds nothing; the values that do
concern the person stay (docs/families.md, « Values stored before these rules »).

The command runs for real (`portail.cli.main`) on a families database of its own, so that
« exactly these persons » is not blurred by other tests' rows.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select, update

from portail.cli import main
from services.families.models import OutboxMessage, Person
from services.kit.keys import DATABASE
from tests import support
from tests.queue.conftest import create_migrated_database

from .conftest import FamiliesApi, families_api

COMMAND = "families-inapplicable-fields"


@pytest.fixture
async def own_api(service_client, signer, monkeypatch) -> AsyncIterator[FamiliesApi]:
    """A families service on a fresh database, which the command reads through the env."""
    label = f"cleanup{uuid.uuid4().hex[:6]}"
    url = await create_migrated_database(label, "families")
    monkeypatch.setenv("FAMILIES_DATABASE_URL", url)
    client = await service_client("families", database_url=url)
    try:
        yield await families_api(client, signer)
    finally:
        await client.close()  # its outbox relay stops before its database goes
        await support.drop_database(support.database_name(label))


async def run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """The command's output; it must succeed. (Its own event loop, in a thread.)"""
    capsys.readouterr()
    assert await asyncio.to_thread(main, [COMMAND, *args]) == 0
    return capsys.readouterr().out


async def store(api: FamiliesApi, person_id: str, **values: Any) -> None:
    """Write values straight into the row, as before the role rules existed."""
    async with api.client.app[DATABASE].transaction() as session:
        await session.execute(update(Person).where(Person.id == person_id).values(**values))


async def row(api: FamiliesApi, person_id: str) -> Person:
    async with api.client.app[DATABASE].sessions() as session:
        person = await session.get(Person, person_id)
        assert person is not None
        return person


async def updates(api: FamiliesApi) -> list[dict[str, Any]]:
    async with api.client.app[DATABASE].sessions() as session:
        rows = (
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.event_type == "person.updated")
            )
        ).all()
    return [r.message for r in rows]


async def test_dry_run_lists_exactly_them_apply_empties_and_journals_then_nothing_left(
    own_api: FamiliesApi, capsys: pytest.CaptureFixture[str]
) -> None:
    api = own_api
    home = await api.family(name="ETCHEVERRY")
    other_home = await api.family(name="DUPOND")
    parent = await api.person(
        home["id"], role="responsable", first_name="Maïa", last_name="Etcheverry",
        email="maia@exemple.fr", insurance_company="MAIF",
    )  # fmt: skip
    child = await api.person(
        home["id"], first_name="Peio", last_name="Etcheverry",
        school="École Jean Verdun", allergies="Lait", insurance_company="MAIF",
    )  # fmt: skip
    contact = await api.person(
        home["id"], role="contact", first_name="Jon", last_name="Arrieta",
        relationship="Grand-père", emergency_contact=True,
    )  # fmt: skip
    clean_child = await api.person(
        home["id"], first_name="Ane", last_name="Etcheverry", allergies="Arachide"
    )
    # The child of separated parents: one journal line in each household.
    linked = await api.client.post(
        f"/families/{other_home['id']}/members",
        json={"person_id": child["id"]},
        headers=api.staff(),
    )
    assert linked.status in (200, 201), await linked.text()

    await store(api, parent["id"], allergies="Arachide", school="École X", pai=True)
    await store(api, child["id"], email="peio@exemple.fr", phone_work="05 59 00 00 00")
    # False is a value too: « partir seul(e) : non » on an adult is still a child's field.
    await store(api, contact["id"], may_leave_alone=False, vaccination_dtp_date=date(2020, 1, 2))
    versions = {p["id"]: (await row(api, p["id"])).version for p in (parent, child, contact)}
    events_before = await updates(api)

    listed = await run(capsys)
    lines = [line for line in listed.splitlines() if line.startswith("  ")]
    assert len(lines) == 3, listed
    by_id = {pid: next(line for line in lines if pid in line) for pid in versions}
    assert by_id[parent["id"]].endswith(
        ": Allergies (allergies), PAI (projet d'accueil individualisé) (pai), École (school)"
    )
    assert "(email)" in by_id[child["id"]] and "(phone_work)" in by_id[child["id"]]
    assert home["id"] in by_id[child["id"]] and other_home["id"] in by_id[child["id"]]
    assert "(may_leave_alone)" in by_id[contact["id"]]
    assert "(vaccination_dtp_date)" in by_id[contact["id"]]
    assert clean_child["id"] not in listed
    assert "Arachide" not in listed and "peio@exemple.fr" not in listed  # names, never values
    assert "3 personne(s)" in listed
    # A dry run changes nothing: same values, same versions, no event.
    assert (await row(api, parent["id"])).allergies == "Arachide"
    assert (await row(api, child["id"])).email == "peio@exemple.fr"
    for pid, version in versions.items():
        assert (await row(api, pid)).version == version
    assert await updates(api) == events_before

    applied = await run(capsys, "--apply")
    assert "3 personne(s) nettoyée(s)" in applied and "« maintenance »" in applied

    parent_row, child_row, contact_row = [await row(api, p["id"]) for p in (parent, child, contact)]
    assert (parent_row.allergies, parent_row.school, parent_row.pai) == (None, None, None)
    assert (child_row.email, child_row.phone_work) == (None, None)
    assert (contact_row.may_leave_alone, contact_row.vaccination_dtp_date) == (None, None)
    # What concerns each person stays.
    assert (parent_row.email, parent_row.insurance_company) == ("maia@exemple.fr", "MAIF")
    assert (child_row.school, child_row.allergies, child_row.insurance_company) == (
        "École Jean Verdun", "Lait", "MAIF",
    )  # fmt: skip
    assert (contact_row.relationship, contact_row.emergency_contact) == ("Grand-père", True)
    assert (await row(api, clean_child["id"])).allergies == "Arachide"
    for pid, version in versions.items():
        assert (await row(api, pid)).version == version + 1

    journaled = [m for m in await updates(api) if m not in events_before]
    assert sorted(
        (m["family_id"], m["data"]["person_id"], tuple(m["data"]["fields"]), m["data"]["by"])
        for m in journaled
    ) == sorted(
        [
            (home["id"], parent["id"], ("allergies", "pai", "school"), "maintenance"),
            (home["id"], child["id"], ("email", "phone_work"), "maintenance"),
            (other_home["id"], child["id"], ("email", "phone_work"), "maintenance"),
            (home["id"], contact["id"], ("may_leave_alone", "vaccination_dtp_date"), "maintenance"),
        ]
    )

    # Marked as the town's maintenance, with the fields as the screens name them: the family's
    # journal says so (tests/services/notifications/test_maintenance_journal.py).
    assert all(m["data"]["maintenance"] is True for m in journaled)
    assert {
        tuple(m["data"]["labels"]) for m in journaled if m["data"]["person_id"] == parent["id"]
    } == {("Allergies", "PAI (projet d'accueil individualisé)", "École")}

    # The RGPD export no longer carries them.
    export = await api.client.get(f"/families/{home['id']}/export", headers=api.staff())
    assert export.status == 200, await export.text()
    assert "peio@exemple.fr" not in await export.text()

    # Idempotent: a second run, dry or not, finds nothing and journals nothing.
    assert "Aucune valeur hors rôle" in await run(capsys)
    assert "Aucune valeur hors rôle" in await run(capsys, "--apply")
    assert len(await updates(api)) == len(events_before) + len(journaled)
