"""An `Idempotency-Key` of a reservation save sent again with another body (224fbbb names the
header on bookings' saves): a 422 `idempotency-key-reused`, as families answers — never the
first save's answer replayed as if the new changes had been made (they were not), nor a
second booking. Real bookings service on PostgreSQL."""

from __future__ import annotations

from typing import Any

from services.kit.testing import TestSigner
from tests.services.bookings.conftest import ContractStandIn
from tests.services.bookings.planning import as_parent, book, cancel, save, setup_reservations

WED_1, WED_2 = "2027-04-21", "2027-04-28"


async def _reservations(bookings: Any, signer: TestSigner, family_id: str) -> list[str]:
    listed = await bookings.get(
        f"/families/{family_id}/reservations", headers=as_parent(signer, family_id)
    )
    assert listed.status == 200, await listed.text()
    items = (await listed.json())["items"]
    return sorted(r["opening_id"] for r in items if r["state"] != "cancelled")


async def test_a_key_sent_again_with_other_changes_is_refused_not_replayed(
    bookings: Any, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    setup = await setup_reservations(bookings, signer, stand_in, children=2, families=1)
    (family_id, child), (_, sibling) = setup.children
    key = {"Idempotency-Key": "reuse-1"}
    first = await save(bookings, signer, family_id, [book(child, setup.opening(WED_1))], **key)
    assert first[0] == 200 and first[1]["results"][0]["state"] == "confirmed"

    for other in (
        [book(child, setup.opening(WED_2))],  # another day
        [book(sibling, setup.opening(WED_1))],  # another child
        [cancel(child, setup.opening(WED_1))],  # another action
        [book(child, setup.opening(WED_1)), book(child, setup.opening(WED_2))],  # one more
    ):
        answer = await bookings.post(
            f"/families/{family_id}/reservations/changes",
            json={"changes": other},
            headers={**as_parent(signer, family_id), **key},
        )
        body = await answer.json()
        assert answer.status == 422, (other, answer.status, body)
        assert answer.content_type == "application/problem+json"
        assert body["type"].endswith("/idempotency-key-reused")
        assert "Idempotent-Replayed" not in answer.headers
    # Nothing of the refused saves was made; the first save stands.
    assert await _reservations(bookings, signer, family_id) == [setup.opening(WED_1)]

    # The same changes under the same key: the first answer, replayed.
    again = await save(bookings, signer, family_id, [book(child, setup.opening(WED_1))], **key)
    assert again == first
