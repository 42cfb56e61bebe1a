"""The staff roster reads one day or one week of an activity, and says so when asked otherwise."""

from __future__ import annotations

from typing import Any

import pytest

from services.kit.testing import TestSigner

from .factories import create_activity, staff

WED = "2027-04-21"


async def roster_of_a_new_activity(bookings: Any, signer: TestSigner, days: str) -> Any:
    """Staff ask a new activity's roster from Wednesday WED for `days`."""
    activity = await create_activity(bookings, signer)
    return await bookings.get(
        "/roster",
        params={"activity_id": activity["id"], "day": WED, "days": days},
        headers=staff(signer),
    )


@pytest.mark.parametrize("days", ["1", "7"])
async def test_the_roster_reads_a_day_or_a_week(
    bookings: Any, signer: TestSigner, days: str
) -> None:
    response = await roster_of_a_new_activity(bookings, signer, days)
    assert response.status == 200, await response.text()


@pytest.mark.parametrize("days", ["3", "0", "8", "14"])
async def test_the_roster_refuses_other_spans_on_days(
    bookings: Any, signer: TestSigner, days: str
) -> None:
    response = await roster_of_a_new_activity(bookings, signer, days)
    assert response.status == 422
    assert response.content_type == "application/problem+json"
    [error] = (await response.json())["errors"]
    assert error["field"] == "days"
    assert "1 (one day) or 7 (a week)" in error["message"]


async def test_the_openapi_document_gives_the_roster_spans(bookings: Any) -> None:
    document = await (await bookings.get("/openapi.json")).json()
    parameters = document["paths"]["/roster"]["get"]["parameters"]
    days = next(p for p in parameters if p["name"] == "days")
    assert days["schema"] == {"type": "integer", "enum": [1, 7], "default": 1}
