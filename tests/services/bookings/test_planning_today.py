"""A planning asked without a start shows the town's week or month: near midnight in Paris,
the UTC date is still the day before."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.kit.testing import TestSigner

from .conftest import ContractStandIn, FrozenClock
from .planning import as_parent, setup_reservations


async def _planning_at(
    moment: datetime,
    view: str,
    bookings: Any,
    signer: TestSigner,
    stand_in: ContractStandIn,
    clock: FrozenClock,
) -> dict[str, Any]:
    setup = await setup_reservations(bookings, signer, stand_in)  # registered while open
    family_id, person_id = setup.children[0]
    clock.now = moment
    response = await bookings.get(
        f"/families/{family_id}/persons/{person_id}/planning",
        params={"view": view},
        headers=as_parent(signer, family_id),
    )
    assert response.status == 200, await response.text()
    return await response.json()


async def test_the_week_shown_by_default_is_pariss_week_on_sunday_night(
    bookings: Any, signer: TestSigner, stand_in: ContractStandIn, clock: FrozenClock
) -> None:
    monday_in_paris = datetime(2027, 4, 18, 22, 30, tzinfo=UTC)  # 00:30 there, CEST
    planning = await _planning_at(monday_in_paris, "week", bookings, signer, stand_in, clock)
    assert planning["starts_on"] == "2027-04-19"


async def test_the_month_shown_by_default_is_pariss_month_on_its_first_night(
    bookings: Any, signer: TestSigner, stand_in: ContractStandIn, clock: FrozenClock
) -> None:
    first_of_may_in_paris = datetime(2027, 4, 30, 22, 30, tzinfo=UTC)  # 00:30 there
    planning = await _planning_at(first_of_may_in_paris, "month", bookings, signer, stand_in, clock)
    assert planning["starts_on"] == "2027-05-01"
