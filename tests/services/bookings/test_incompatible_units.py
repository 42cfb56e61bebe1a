"""Units that cannot be booked the same day (journée excludes matin and après-midi): the
planning does not offer them once one is held, and says why, naming units by their label;
the save refuses them with the labels too (never the codes) — on PostgreSQL and on the
embedded database alike."""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import event

from services.bookings.grid import planning, planning_range
from services.kit.keys import DATABASE
from services.kit.testing import TestSigner

from .conftest import DEFAULT_NOW, ContractStandIn
from .planning import as_parent, book, cancel, save, setup_reservations

WED, THU, FRI = "2027-04-21", "2027-04-22", "2027-04-23"


async def _grid(
    client: TestClient, signer: TestSigner, family_id: str, child: str
) -> dict[str, Any]:
    response = await client.get(
        f"/families/{family_id}/persons/{child}/planning",
        params={"starts_on": WED},
        headers=as_parent(signer, family_id),
    )
    assert response.status == 200, await response.text()
    return await response.json()


def _cells(grid: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """Cells by (unit code, day)."""
    return {
        (row["unit_code"], cell["day"]): cell
        for row in grid["activities"][0]["rows"]
        for cell in row["cells"]
    }


async def test_the_planning_locks_the_units_a_held_one_excludes_and_says_which_by_its_label(
    client: TestClient, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    # One place a day and a waiting list: the other family's child takes Wednesday's
    # journée, so ours waits for it; ours has Thursday's journée and Friday's matin.
    setup = await setup_reservations(
        client, signer, stand_in, capacity=1, children=2, waiting_list=True
    )
    (family_id, child), (other_family, other_child) = setup.children
    await save(client, signer, other_family, [book(other_child, setup.opening(WED))])
    status, body = await save(
        client, signer, family_id,
        [book(child, setup.opening(WED)), book(child, setup.opening(THU)),
         book(child, setup.opening(FRI, "matin"))],
    )  # fmt: skip
    assert status == 200, body
    assert [r["state"] for r in body["results"]] == ["waiting", "confirmed", "confirmed"]

    grid = await _grid(client, signer, family_id, child)
    cells = _cells(grid)
    for unit in ("matin", "apres_midi"):
        thursday = cells[(unit, THU)]
        assert (thursday["state"], thursday["label"], thursday["bookable"]) == (
            "incompatible", "incompatible", False,
        )  # fmt: skip
        assert thursday["opening_id"] == setup.opening(THU, unit)
        assert thursday["locked_reason"] == "Incompatible avec « Journée » (réservé) ce jour-là."
        # A waiting request holds its unit too: booking matin would be refused the same.
        assert cells[(unit, WED)]["state"] == "incompatible"
        assert cells[(unit, WED)]["locked_reason"] == (
            "Incompatible avec « Journée » (en liste d'attente) ce jour-là."
        )
    # Read both ways: Friday's matin locks Friday's journée, not the après-midi.
    assert cells[("journee", FRI)]["state"] == "incompatible"
    assert cells[("journee", FRI)]["locked_reason"] == (
        "Incompatible avec « Matin » (réservé) ce jour-là."
    )
    assert cells[("apres_midi", FRI)]["state"] == "dernieres_places"  # one place a day
    assert cells[("apres_midi", FRI)]["bookable"]
    # The repas excludes nothing; the held cells stay cancellable.
    assert cells[("repas", THU)]["state"] == "dernieres_places"
    assert cells[("journee", THU)]["state"] == "confirmed"
    assert cells[("journee", THU)]["cancellable"]
    # Each row names the units it cannot share a day with, both ways, for the page.
    excludes = {row["unit_code"]: row["excludes"] for row in grid["activities"][0]["rows"]}
    assert excludes == {
        "journee": ["apres_midi", "matin"], "matin": ["journee"], "apres_midi": ["journee"],
        "repas": [],
    }  # fmt: skip
    legend = {e["state"]: e["label"] for e in grid["legend"]}
    assert legend["incompatible"] == "incompatible avec une unité prise ce jour-là"

    # Thursday's journée cancelled: its matin is offered again.
    status, body = await save(client, signer, family_id, [cancel(child, setup.opening(THU))])
    assert status == 200 and body["results"][0]["ok"], body
    again = _cells(await _grid(client, signer, family_id, child))
    assert again[("matin", THU)]["state"] == "dernieres_places"
    assert again[("matin", THU)]["bookable"]


def _planning_reads(client: TestClient) -> int:
    """One statement on PostgreSQL (both parts as JSON), two on the embedded database."""
    return 1 if client.app[DATABASE].engine.dialect.name == "postgresql" else 2


async def test_the_planning_reads_with_one_statement_on_postgresql_two_embedded(
    client: TestClient, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    setup = await setup_reservations(client, signer, stand_in)
    family_id, child = setup.children[0]
    await save(client, signer, family_id, [book(child, setup.opening(d)) for d in (WED, THU, FRI)])
    database = client.app[DATABASE]
    statements: list[str] = []
    async with database.reads() as connection:
        mine = connection.sync_connection

        def _count(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            # Only this connection's (not the outbox relay's, running beside), and only the
            # reads: not the kit's `BEGIN IMMEDIATE` on SQLite nor any driver housekeeping.
            is_read = statement.lstrip().upper().startswith(("SELECT", "WITH"))
            if conn is mine and is_read:
                statements.append(statement)

        event.listen(database.engine.sync_engine, "before_cursor_execute", _count)
        try:
            grid = await planning(
                connection,
                family_id=family_id,
                person_id=child,
                days=planning_range(date.fromisoformat(WED), 7, "week", DEFAULT_NOW.date()),
                now=DEFAULT_NOW,
            )
        finally:
            event.remove(database.engine.sync_engine, "before_cursor_execute", _count)
    cells = _cells(grid.model_dump(mode="json"))
    assert cells[("matin", WED)]["state"] == "incompatible"
    # Not one more per cell or per held unit.
    assert len(statements) == _planning_reads(client), statements


async def test_the_planning_answers_over_http_with_those_reads_only(
    client: TestClient, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    # The person's accepted registration, read by the planning's first statement, proves
    # they belong to the family: no third statement asks it again. A person of no
    # registration of this family is still asked about, and still 404.
    setup = await setup_reservations(client, signer, stand_in, children=2)
    (family_id, child), (other_family, other_child) = setup.children
    engine = client.app[DATABASE].engine.sync_engine
    statements: list[str] = []

    def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # The reads of the request, not the outbox relay's running beside it.
        is_read = statement.lstrip().upper().startswith(("SELECT", "WITH"))
        if is_read and "outbox" not in statement:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", _count)
    try:
        await _grid(client, signer, family_id, child)
        assert len(statements) == _planning_reads(client), statements
        statements.clear()
        response = await client.get(
            f"/families/{family_id}/persons/{other_child}/planning",
            params={"starts_on": WED},
            headers=as_parent(signer, family_id),
        )
        assert response.status == 404, await response.text()
        assert len(statements) == 2, statements  # no registration read, then the 404's
    finally:
        event.remove(engine, "before_cursor_execute", _count)
    assert other_family != family_id


async def test_the_save_refuses_an_incompatible_unit_naming_both_units_by_their_label(
    client: TestClient, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    setup = await setup_reservations(client, signer, stand_in)
    family_id, child = setup.children[0]
    await save(client, signer, family_id, [book(child, setup.opening(WED))])
    status, body = await save(
        client, signer, family_id,
        [
            book(child, setup.opening(WED, "apres_midi")),  # journée already booked
            book(child, setup.opening(THU, "matin")),
            book(child, setup.opening(THU)),  # matin booked by this very save
        ],
    )  # fmt: skip
    assert status == 200, body
    first, second, third = body["results"]
    assert (first["code"], first["reason"]) == (
        "incompatible",
        "« Après-midi » ne peut pas être réservé le même jour que « Journée »",
    )
    assert first["label"] == "refusé : " + first["reason"]
    assert second["ok"] and second["state"] == "confirmed"
    assert (third["code"], third["reason"]) == (
        "incompatible",
        "« Journée » ne peut pas être réservé le même jour que « Matin »",
    )
    said = " ".join(f"{r['label']} {r.get('reason') or ''}" for r in body["results"])
    assert not {"journee", "apres_midi", "matin"} & set(said.replace("«", " ").split())

    # Cancelling the journée in the same save frees the day for the après-midi.
    status, body = await save(
        client, signer, family_id,
        [book(child, setup.opening(WED, "apres_midi")), cancel(child, setup.opening(WED))],
    )  # fmt: skip
    assert status == 200, body
    assert [r["ok"] for r in body["results"]] == [True, True], body
