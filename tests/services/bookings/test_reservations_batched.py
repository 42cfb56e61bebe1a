"""A save's writes are batched (one INSERT of the rows, one of the events, a conditional UPDATE
per booking): siblings on the same opening, the waiting list and « complet » in one save,
the planning's two reads and every kind of cell they tell, a retry answered from the stored
answer read with the rules' reads, and crosswise saves that would deadlock were the openings
locked out of order; the places taken last before the commit, the answer stored before
and corrected when places ran short — on PostgreSQL and on the embedded database alike."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from services.bookings.models import OutboxMessage
from services.kit.keys import DATABASE
from services.kit.testing import TestSigner

from .conftest import ContractStandIn
from .factories import staff
from .planning import as_parent, book, cancel, save, setup_reservations

WED, THU, FRI, SAT = "2027-04-21", "2027-04-22", "2027-04-23", "2027-04-24"
NEXT_WED = "2027-04-28"


async def _rows(client: TestClient, opening: str) -> tuple[int, Counter[str], list[Any]]:
    async with client.app[DATABASE].sessions() as session:
        booked = await session.scalar(
            text("SELECT booked FROM openings WHERE id = :o"), {"o": opening}
        )
        states = Counter(
            (
                await session.scalars(
                    text("SELECT state FROM reservations WHERE opening_id = :o"), {"o": opening}
                )
            ).all()
        )
        events = [
            m.message
            for m in (await session.scalars(select(OutboxMessage))).all()
            if m.event_type.startswith("reservation.")
            and m.message["data"]["opening_id"] == opening
        ]
    return int(booked or 0), states, events


async def test_three_siblings_in_one_save_for_two_places_two_booked_one_waiting(
    client: TestClient, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    setup = await setup_reservations(
        client, signer, stand_in, capacity=2, children=3, families=1, waiting_list=True
    )
    family_id = setup.children[0][0]
    opening = setup.opening(WED)
    status, body = await save(
        client, signer, family_id, [book(person, opening) for _, person in setup.children]
    )
    assert status == 200, body
    assert [r["state"] for r in body["results"]] == ["confirmed", "confirmed", "waiting"]
    booked, states, events = await _rows(client, opening)
    assert booked == 2 and states == {"confirmed": 2, "waiting": 1}
    # One event per change, each naming its own reservation.
    assert sorted(e["type"] for e in events) == [
        "reservation.confirmed",
        "reservation.confirmed",
        "reservation.waitlisted",
    ]
    assert {e["data"]["reservation_id"] for e in events} == {
        r["reservation_id"] for r in body["results"]
    }


async def test_without_a_waiting_list_the_sibling_beyond_the_places_is_told_full_and_not_kept(
    client: TestClient, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    setup = await setup_reservations(client, signer, stand_in, capacity=2, children=3, families=1)
    family_id = setup.children[0][0]
    opening = setup.opening(WED)
    status, body = await save(
        client, signer, family_id, [book(person, opening) for _, person in setup.children]
    )
    assert status == 200, body
    assert [r.get("code") for r in body["results"]] == [None, None, "full"]
    booked, states, events = await _rows(client, opening)
    assert booked == 2 and states == {"confirmed": 2}
    assert [e["type"] for e in events] == ["reservation.confirmed"] * 2


async def test_the_planning_reads_the_same_states_on_either_database(
    client: TestClient, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    setup = await setup_reservations(client, signer, stand_in, capacity=2, children=2)
    (family_id, child), (other_family, other_child) = setup.children
    await save(client, signer, other_family, [book(other_child, setup.opening(THU))])
    status, body = await save(client, signer, family_id, [book(child, setup.opening(WED))])
    assert status == 200, body
    response = await client.get(
        f"/families/{family_id}/persons/{child}/planning",
        params={"starts_on": WED},
        headers=as_parent(signer, family_id),
    )
    assert response.status == 200, await response.text()
    grid = await response.json()
    row = next(r for r in grid["activities"][0]["rows"] if r["unit_code"] == "journee")
    cells = {c["day"]: c for c in row["cells"]}
    assert (cells[WED]["state"], cells[WED]["cancellable"]) == ("confirmed", True)
    # The other family's booking shows only as a place fewer.
    assert (cells[THU]["state"], cells[THU]["remaining"]) == ("dernieres_places", 1)
    assert cells[SAT]["state"] == "ferme"


async def test_a_retry_of_a_finished_save_gets_its_first_answer_and_books_nothing_more(
    client: TestClient, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    setup = await setup_reservations(client, signer, stand_in, capacity=2, children=1)
    family_id, child = setup.children[0]
    opening = setup.opening(WED)
    answers = []
    for _ in range(2):
        response = await client.post(
            f"/families/{family_id}/reservations/changes",
            json={"changes": [book(child, opening)]},
            headers={**as_parent(signer, family_id), "Idempotency-Key": "retry-1"},
        )
        assert response.status == 200, await response.text()
        answers.append((response.headers.get("Idempotent-Replayed"), await response.json()))
    (first_flag, first), (second_flag, second) = answers
    assert (first_flag, second_flag) == (None, "true")
    assert second == first and first["results"][0]["state"] == "confirmed"
    booked, states, events = await _rows(client, opening)
    assert booked == 1 and states == {"confirmed": 1} and len(events) == 1


async def test_a_replayed_save_sends_the_header_the_served_document_names(
    client: TestClient, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    document = await (await client.get("/openapi.json")).json()
    setup = await setup_reservations(client, signer, stand_in, capacity=2, children=1)
    family_id, child = setup.children[0]
    path = "/families/{family_id}/reservations/changes"
    operation = document["paths"][path]["post"]
    named = operation["responses"]["200"]["headers"]["Idempotent-Replayed"]["schema"]["const"]
    assert "Idempotency-Key" in [p["name"] for p in operation["parameters"]]

    answers = []
    for _ in range(2):
        response = await client.post(
            path.format(family_id=family_id),
            json={"changes": [book(child, setup.opening(WED))]},
            headers={**as_parent(signer, family_id), "Idempotency-Key": "documented-1"},
        )
        assert response.status == 200, await response.text()
        answers.append(response.headers.get("Idempotent-Replayed"))

    assert answers == [None, named] == [None, "true"]


async def test_crosswise_saves_cancelling_and_booking_the_same_openings_never_deadlock(
    client: TestClient, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    # Each save cancels one opening and books the other, the two families crosswise: were
    # the openings locked in another order than their ids', PostgreSQL would find deadlocks.
    setup = await setup_reservations(client, signer, stand_in, capacity=5, children=2)
    (f1, p1), (f2, p2) = setup.children
    a, b = setup.opening(WED), setup.opening(NEXT_WED)
    await save(client, signer, f1, [book(p1, a)])
    await save(client, signer, f2, [book(p2, b)])
    for round_ in range(8):
        held_1, free_1 = (a, b) if round_ % 2 == 0 else (b, a)
        answers = await asyncio.gather(
            save(client, signer, f1, [cancel(p1, held_1), book(p1, free_1)]),
            save(client, signer, f2, [cancel(p2, free_1), book(p2, held_1)]),
        )
        for status, body in answers:
            assert status == 200, body
            assert [r["ok"] for r in body["results"]] == [True, True], body
    for opening in (a, b):
        booked, states, _ = await _rows(client, opening)
        assert booked == states["confirmed"] == 1, (booked, states)


async def test_the_planning_tells_each_kind_of_cell_and_why(
    client: TestClient, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    setup = await setup_reservations(client, signer, stand_in, validation="manual")
    family_id, child = setup.children[0]
    activity_id, period_id = setup.activity["id"], setup.period["id"]
    closed = await client.post(
        f"/activities/{activity_id}/closures",
        json={"days": [THU], "reason": "grève"},
        headers=staff(signer),
    )
    assert closed.status == 201, await closed.text()
    # Saturdays open for the other group only: « non inscrit » for this child.
    made = await client.post(
        f"/periods/{period_id}/openings",
        json={"capacity": 5, "groups": ["maternelle"], "weekdays": [5]},
        headers=staff(signer),
    )
    assert made.status in (200, 201), await made.text()
    _, asked = await save(
        client,
        signer,
        family_id,
        [book(child, setup.opening(WED)), book(child, setup.opening(FRI))],
    )
    refused = await client.post(
        "/reservations/decisions",
        json={"decisions": [{"reservation_id": asked["results"][0]["reservation_id"],
                             "decision": "refuse", "reason": "groupe complet"}]},
        headers=staff(signer),
    )  # fmt: skip
    assert refused.status == 200, await refused.text()

    async def journee(starts_on: str) -> dict[str, Any]:
        response = await client.get(
            f"/families/{family_id}/persons/{child}/planning",
            params={"starts_on": starts_on},
            headers=as_parent(signer, family_id),
        )
        assert response.status == 200, await response.text()
        rows = (await response.json())["activities"][0]["rows"]
        cells = next(r for r in rows if r["unit_code"] == "journee")["cells"]
        return {c["day"]: (c["state"], c["locked_reason"]) for c in cells}

    week = await journee(WED)
    assert week["2027-04-19"] == ("disponible", None)
    assert week[WED] == ("refused", "Refusé : groupe complet.")
    assert week[THU] == ("ferme", "Fermé : grève.")
    assert week[FRI][0] == "requested"
    assert week[SAT] == ("non_inscrit", "Pas d'inscription acceptée pour ce jour.")
    assert week["2027-04-25"] == ("ferme", "Pas d'accueil ce jour-là.")
    last = await journee("2027-04-26")
    assert last["2027-05-01"][0] == "ferme" and "jour férié" in last["2027-05-01"][1]
    assert last["2027-05-02"][0] == "hors_periode"


async def test_a_retry_replays_the_corrected_answer_when_places_ran_short(
    client: TestClient, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    # The answer is stored as if every booking got its place, before the places are taken;
    # the sibling beyond them is told « liste d'attente » and the stored answer says so too.
    setup = await setup_reservations(
        client, signer, stand_in, capacity=2, children=3, families=1, waiting_list=True
    )
    family_id = setup.children[0][0]
    opening = setup.opening(WED)
    changes = [book(person, opening) for _, person in setup.children]
    answers = []
    for _ in range(2):
        response = await client.post(
            f"/families/{family_id}/reservations/changes",
            json={"changes": changes},
            headers={**as_parent(signer, family_id), "Idempotency-Key": "short-1"},
        )
        assert response.status == 200, await response.text()
        answers.append(await response.json())
    first, replayed = answers
    assert [r["state"] for r in first["results"]] == ["confirmed", "confirmed", "waiting"]
    assert replayed == first
    booked, states, events = await _rows(client, opening)
    assert booked == 2 and states == {"confirmed": 2, "waiting": 1}
    assert sorted(e["type"] for e in events) == [
        "reservation.confirmed",
        "reservation.confirmed",
        "reservation.waitlisted",
    ]


async def test_the_places_are_taken_last_before_the_commit(
    client: TestClient, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    # The openings' locks, which concurrent saves of the same openings wait on, are held
    # from the statement taking the places to the commit, with nothing sent in between (the
    # events and the Idempotency-Key's answer are written before).
    from sqlalchemy import event

    setup = await setup_reservations(client, signer, stand_in, capacity=5, children=1)
    family_id, child = setup.children[0]
    engine = client.app[DATABASE].engine.sync_engine
    sent: list[tuple[Any, str]] = []

    def _statement(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        flat = " ".join(statement.split()).upper()
        what = "TAKE" if "UPDATE OPENINGS" in flat else flat
        sent.append((conn, what))

    def _commit(conn: Any) -> None:
        sent.append((conn, "COMMIT"))

    event.listen(engine, "before_cursor_execute", _statement)
    event.listen(engine, "commit", _commit)
    try:
        response = await client.post(
            f"/families/{family_id}/reservations/changes",
            json={"changes": [book(child, setup.opening(d)) for d in (WED, THU, FRI)]},
            headers={**as_parent(signer, family_id), "Idempotency-Key": "last-1"},
        )
        assert response.status == 200, await response.text()
    finally:
        event.remove(engine, "before_cursor_execute", _statement)
        event.remove(engine, "commit", _commit)
    # The save's transaction only (the outbox relay runs beside it on its own connection).
    saving = next(conn for conn, what in sent if what == "TAKE")
    mine = [what for conn, what in sent if conn is saving]
    first = mine.index("TAKE")
    last = len(mine) - 1 - mine[::-1].index("TAKE")
    # One statement on PostgreSQL, one per place on the embedded database, then the commit.
    assert set(mine[first : last + 1]) == {"TAKE"}, mine
    assert mine[last + 1] == "COMMIT", mine
    # (On PostgreSQL the events and the key go in one statement, a data-modifying WITH.)
    assert any("INSERT INTO OUTBOX_MESSAGES" in w for w in mine[:first]), mine
    assert any("INSERT INTO IDEMPOTENCY_KEYS" in w for w in mine[:first]), mine


async def test_a_row_a_twin_inserted_first_is_refused_and_gets_no_event_nor_a_stale_answer(
    client: TestClient, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    # Another tab's save has inserted Wednesday's row and not committed yet: this save's
    # reads cannot see it, its INSERT waits on the active index, then leaves it out. That
    # change is « déjà réservé », no event is written for it, and the answer stored under
    # the key (written with the rows, as if all went in) is corrected.
    database = client.app[DATABASE]
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: the twin would hold the save back whole")
    setup = await setup_reservations(client, signer, stand_in, capacity=5, children=1)
    family_id, child = setup.children[0]
    wed, thu = setup.opening(WED), setup.opening(THU)
    # Connections of their own: the service's pool has no room beyond its size.
    outside = create_async_engine(database.url, poolclass=NullPool)
    async with outside.connect() as twin, outside.connect() as watcher:
        await twin.begin()
        await twin.execute(
            text(
                "INSERT INTO reservations (id, family_id, person_id, person_name, activity_id,"
                " opening_id, day, unit_id, state, holds_place, changed_by, created_at,"
                " updated_at, arrival) SELECT :id, :family, :person, 'TWIN', activity_id, id,"
                " day, unit_id, 'confirmed', true, 'twin', now(), now(), 0"
                " FROM openings WHERE id = :opening"
            ),
            {"id": str(uuid.uuid4()), "family": family_id, "person": child, "opening": wed},
        )
        await twin.execute(
            text("UPDATE openings SET booked = booked + 1 WHERE id = :o"), {"o": wed}
        )
        saving = asyncio.create_task(
            save(
                client, signer, family_id, [book(child, wed), book(child, thu)],
                **{"Idempotency-Key": "twin-1"},
            )
        )  # fmt: skip
        waiting = text(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        async with asyncio.timeout(20):
            while not (await watcher.execute(waiting)).scalar():  # noqa: ASYNC110 (polls SQL)
                await asyncio.sleep(0.02)
        await twin.commit()
        status, body = await saving
    await outside.dispose()
    assert status == 200, body
    assert [r["code"] for r in body["results"]] == ["already-booked", None], body
    assert body["results"][1]["state"] == "confirmed" and body["applied"] == 1
    booked, states, events = await _rows(client, wed)
    assert booked == 1 and states == {"confirmed": 1}
    assert events == []  # the twin's own save would have written its event
    _, _, thursday = await _rows(client, thu)
    assert [e["data"]["reservation_id"] for e in thursday] == [body["results"][1]["reservation_id"]]
    again = await save(
        client, signer, family_id, [book(child, wed), book(child, thu)],
        **{"Idempotency-Key": "twin-1"},
    )  # fmt: skip
    assert again == (200, body)
