"""A planning asked without a start shows the town's week or month: near midnight in Paris,
the UTC date is still the day before; on Saturday and Sunday, the coming week."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

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


async def test_the_week_shown_by_default_is_pariss_week_on_monday_night(
    bookings: Any, signer: TestSigner, stand_in: ContractStandIn, clock: FrozenClock
) -> None:
    tuesday_in_paris = datetime(2027, 4, 19, 22, 30, tzinfo=UTC)  # 00:30 there, CEST
    planning = await _planning_at(tuesday_in_paris, "week", bookings, signer, stand_in, clock)
    assert planning["starts_on"] == "2027-04-19"


async def test_the_week_shown_on_friday_night_is_the_next_one_once_it_is_saturday_in_paris(
    bookings: Any, signer: TestSigner, stand_in: ContractStandIn, clock: FrozenClock
) -> None:
    # Friday 16 April in UTC, already Saturday in Paris: the weekend shows the coming week.
    saturday_in_paris = datetime(2027, 4, 16, 22, 30, tzinfo=UTC)
    planning = await _planning_at(saturday_in_paris, "week", bookings, signer, stand_in, clock)
    assert planning["starts_on"] == "2027-04-19"
    assert planning["ends_on"] == "2027-04-25"


@pytest.mark.parametrize(
    ("moment", "monday"),
    [
        (datetime(2027, 4, 16, 12, 0, tzinfo=UTC), "2027-04-12"),  # Friday: this week
        (datetime(2027, 4, 17, 12, 0, tzinfo=UTC), "2027-04-19"),  # Saturday: the next
        (datetime(2027, 4, 18, 12, 0, tzinfo=UTC), "2027-04-19"),  # Sunday: the next
        (datetime(2027, 4, 19, 12, 0, tzinfo=UTC), "2027-04-19"),  # Monday: this week
    ],
)
async def test_on_saturday_and_sunday_the_default_week_is_the_coming_one(
    moment: datetime,
    monday: str,
    bookings: Any,
    signer: TestSigner,
    stand_in: ContractStandIn,
    clock: FrozenClock,
) -> None:
    planning = await _planning_at(moment, "week", bookings, signer, stand_in, clock)
    assert planning["starts_on"] == monday


async def test_a_week_asked_for_on_sunday_is_the_week_asked_for(
    bookings: Any, signer: TestSigner, stand_in: ContractStandIn, clock: FrozenClock
) -> None:
    setup = await setup_reservations(bookings, signer, stand_in)
    family_id, person_id = setup.children[0]
    clock.now = datetime(2027, 4, 18, 12, 0, tzinfo=UTC)  # a Sunday
    response = await bookings.get(
        f"/families/{family_id}/persons/{person_id}/planning",
        params={"starts_on": "2027-04-18"},
        headers=as_parent(signer, family_id),
    )
    assert (await response.json())["starts_on"] == "2027-04-12"


async def test_the_month_shown_by_default_is_pariss_month_on_its_first_night(
    bookings: Any, signer: TestSigner, stand_in: ContractStandIn, clock: FrozenClock
) -> None:
    first_of_may_in_paris = datetime(2027, 4, 30, 22, 30, tzinfo=UTC)  # 00:30 there
    planning = await _planning_at(first_of_may_in_paris, "month", bookings, signer, stand_in, clock)
    assert planning["starts_on"] == "2027-05-01"


@pytest.mark.parametrize(
    ("starts_on", "view"),
    [("9999-12-28", "week"), ("9999-12-15", "month"), ("0001-01-01", "week")],
)
async def test_a_planning_at_the_calendars_ends_is_a_clear_422(
    starts_on: str, view: str, bookings: Any, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    # A municipal system's typo: the range ran past 9999-12-31 and answered 500.
    setup = await setup_reservations(bookings, signer, stand_in)
    family_id, person_id = setup.children[0]
    response = await bookings.get(
        f"/families/{family_id}/persons/{person_id}/planning",
        params={"starts_on": starts_on, "view": view},
        headers=as_parent(signer, family_id),
    )
    assert response.status == 422, await response.text()
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert [e["field"] for e in (await response.json())["errors"]] == ["starts_on"]
