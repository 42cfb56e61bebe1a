"""A day whose deadlines have passed: the planning says when booking or cancelling was still
possible, in the past tense. It said « Hors délai : réservable jusqu'au mercredi 25 novembre
2026 à 12:00. » on the 29th — a parent read that the day could be booked until a day gone."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp.test_utils import TestClient

from services.kit.testing import TestSigner

from .conftest import ContractStandIn, FrozenClock
from .planning import as_parent, book, save, setup_reservations

WED = "2027-04-21"


async def test_a_day_past_its_deadlines_says_until_when_it_could_be_booked_or_cancelled(
    client: TestClient, signer: TestSigner, stand_in: ContractStandIn, clock: FrozenClock
) -> None:
    setup = await setup_reservations(client, signer, stand_in)
    (family_id, child) = setup.children[0]
    status, body = await save(client, signer, family_id, [book(child, setup.opening(WED))])
    assert status == 200 and body["results"][0]["ok"], body

    clock.now = datetime(2027, 4, 21, 7, 0, tzinfo=UTC)  # the morning of the day itself
    response = await client.get(
        f"/families/{family_id}/persons/{child}/planning",
        params={"starts_on": WED},
        headers=as_parent(signer, family_id),
    )
    assert response.status == 200, await response.text()
    rows = (await response.json())["activities"][0]["rows"]
    wednesday = {r["unit_code"]: next(c for c in r["cells"] if c["day"] == WED) for r in rows}

    booked, free = wednesday["journee"], wednesday["repas"]
    assert (booked["state"], booked["cancellable"]) == ("confirmed", False)
    assert booked["locked_reason"].startswith("Hors délai : l'annulation était possible jusqu'au ")
    assert free["state"] == "hors_delai"
    assert free["locked_reason"].startswith("Hors délai : la réservation était possible jusqu'au ")
    for cell in (booked, free):
        assert "able jusqu'au" not in cell["locked_reason"]
