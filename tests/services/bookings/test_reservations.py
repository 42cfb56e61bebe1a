"""Saving planning changes: each change applied or refused on its own, with its reason."""

from __future__ import annotations

from typing import Any

from services.kit.testing import TestSigner

from .conftest import ContractStandIn
from .planning import as_parent, book, cancel, save, setup_reservations

WED_1, WED_2, THU_1 = "2027-04-21", "2027-04-28", "2027-04-22"


async def test_a_parent_books_two_wednesdays_sees_them_reserved_and_cancels_one(
    bookings: Any, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    setup = await setup_reservations(bookings, signer, stand_in)
    family_id, child = setup.children[0]
    status, body = await save(
        bookings, signer, family_id,
        [book(child, setup.opening(WED_1)), book(child, setup.opening(WED_2))],
    )  # fmt: skip
    assert status == 200, body
    assert [r["label"] for r in body["results"]] == ["réservé", "réservé"]
    planning = await bookings.get(
        f"/families/{family_id}/persons/{child}/planning",
        params={"starts_on": WED_1},
        headers=as_parent(signer, family_id),
    )
    assert planning.status == 200, await planning.text()
    grid = await planning.json()
    assert grid["starts_on"] == "2027-04-19"
    row = next(r for r in grid["activities"][0]["rows"] if r["unit_code"] == "journee")
    by_day = {c["day"]: c for c in row["cells"]}
    assert by_day[WED_1]["label"] == "réservé" and by_day[WED_1]["cancellable"]
    assert by_day[THU_1]["state"] == "disponible" and by_day[THU_1]["bookable"]
    assert by_day["2027-04-24"]["state"] == "ferme"
    assert {e["label"] for e in grid["legend"]} >= {"disponible", "complet", "réservé"}

    status, body = await save(bookings, signer, family_id, [cancel(child, setup.opening(WED_2))])
    assert status == 200 and body["results"][0]["state"] == "cancelled", body


async def test_refusals_name_their_reason_and_the_other_changes_still_apply(
    bookings: Any, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    setup = await setup_reservations(bookings, signer, stand_in)
    family_id, child = setup.children[0]
    status, body = await save(
        bookings, signer, family_id,
        [
            book(child, setup.opening(WED_1)),
            book(child, setup.opening(WED_1, "matin")),  # journée excludes matin
            book(child, "no-such-opening"),
            cancel(child, setup.opening(THU_1)),  # nothing to cancel
            book(child, setup.opening(WED_2)),
        ],
    )  # fmt: skip
    assert status == 200, body
    codes = [r["code"] for r in body["results"]]
    assert codes == [None, "incompatible", "unknown-opening", "nothing-to-cancel", None]
    assert body["applied"] == 2 and body["refused"] == 3
    assert "ne peut pas être réservé le même jour" in body["results"][1]["reason"]


async def test_a_save_of_more_than_two_hundred_changes_is_refused_whole(
    bookings: Any, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    setup = await setup_reservations(bookings, signer, stand_in)
    family_id, child = setup.children[0]
    status, body = await save(
        bookings, signer, family_id, [book(child, setup.opening(WED_1))] * 201
    )
    assert status == 422, body


async def test_a_double_click_with_the_same_idempotency_key_books_once(
    bookings: Any, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    import asyncio

    setup = await setup_reservations(bookings, signer, stand_in)
    family_id, child = setup.children[0]
    changes = [book(child, setup.opening(WED_1))]
    first, second = await asyncio.gather(
        save(bookings, signer, family_id, changes, **{"Idempotency-Key": "clic-1"}),
        save(bookings, signer, family_id, changes, **{"Idempotency-Key": "clic-1"}),
    )
    assert first == second, (first, second)
    assert first[1]["results"][0]["state"] == "confirmed"
    again = await save(bookings, signer, family_id, changes)  # no key: the rule answers
    assert again[1]["results"][0]["code"] == "already-booked"


async def test_one_familys_idempotency_key_never_replays_anothers_answer(
    bookings: Any, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    setup = await setup_reservations(bookings, signer, stand_in, children=2)
    (family_a, child_a), (family_b, child_b) = setup.children
    assert family_a != family_b
    key = {"Idempotency-Key": "meme-cle-1"}
    mine = await save(bookings, signer, family_a, [book(child_a, setup.opening(WED_1))], **key)
    assert mine[0] == 200 and mine[1]["results"][0]["state"] == "confirmed"

    # Family B with the same key gets its own answer, for its own child.
    theirs = await save(bookings, signer, family_b, [book(child_b, setup.opening(WED_1))], **key)
    assert theirs[0] == 200 and theirs[1] != mine[1]
    assert theirs[1]["results"][0]["person_id"] == child_b
    # B's parent sending A's key on A's family: 404, nothing of A's answer.
    stolen = await bookings.post(
        f"/families/{family_a}/reservations/changes",
        json={"changes": [book(child_a, setup.opening(WED_1))]},
        headers={**as_parent(signer, family_b), **key},
    )
    assert stolen.status == 404
    assert "Idempotent-Replayed" not in stolen.headers and child_a not in await stolen.text()


async def test_repeating_a_week_books_the_same_days_for_several_children(
    bookings: Any, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    setup = await setup_reservations(bookings, signer, stand_in, children=2, families=1)
    (family_id, first), (_, second) = setup.children
    await save(bookings, signer, family_id, [book(first, setup.opening(WED_1))])
    repeated = await bookings.post(
        f"/families/{family_id}/reservations/repeat",
        json={"person_id": first, "week_of": WED_1, "until": "2027-04-30",
              "person_ids": [first, second]},
        headers=as_parent(signer, family_id),
    )  # fmt: skip
    body = await repeated.json()
    assert repeated.status == 200, body
    booked = sorted((r["person_id"] == first, str(r["day"])) for r in body["results"] if r["ok"])
    assert booked == [(False, WED_1), (False, WED_2), (True, WED_2)]
    too_far = await bookings.post(
        f"/families/{family_id}/reservations/repeat",
        json={"person_id": first, "week_of": WED_1, "until": "2028-06-30"},
        headers=as_parent(signer, family_id),
    )
    assert too_far.status == 422
