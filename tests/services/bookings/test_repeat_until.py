"""« Répéter cette semaine » with an end date the bookings service refuses — before the week,
or more than a year after it — through the real gateway, bookings, families and documents:
the page says what to choose, in the page's language. It said « Certains champs sont
manquants ou invalides. », which names no field."""

from __future__ import annotations

import pytest

from services.kit.testing import TestSigner

from .portal import PARENT_EMAIL, Portal
from .test_pages import csrf, sign_in, text_of
from .test_reservation_pages import ready_child

WEEK = "2027-04-19"


@pytest.mark.parametrize(
    ("until", "french", "english"),
    [
        (
            "2027-04-12",
            "La date de fin doit être après la semaine à répéter.",
            "The end date must come after the week to repeat.",
        ),
        (
            "9999-12-31",
            "Une répétition couvre un an au plus : choisissez une date de fin jusqu'au 23/04/2028.",
            "A repetition covers one year at most: choose an end date up to 23 April 2028.",
        ),
    ],
    ids=["before-the-week", "years-later"],
)
async def test_an_end_date_the_service_refuses_is_explained(
    portal: Portal, signer: TestSigner, until: str, french: str, english: str
) -> None:
    await ready_child(portal, signer)
    client, base = portal.gateway, portal.base_url
    await sign_in(client, base, PARENT_EMAIL)
    planning = f"/reservations?famille={portal.family_id}&personne={portal.child_id}"
    token = csrf(await (await client.get(f"{planning}&semaine={WEEK}")).text())
    form = {
        "csrf_token": token, "famille": portal.family_id, "personne": portal.child_id,
        "semaine": WEEK, "source": WEEK, "rythme": "1", "jusqu_au": until,
    }  # fmt: skip

    refused = await client.post("/reservations/repeter", data=form, headers={"Origin": base})
    in_english = await client.post(
        "/reservations/repeter?lang=en", data=form, headers={"Origin": base}
    )

    assert refused.status == 422
    assert french in text_of(await refused.text())
    assert english in text_of(await in_english.text())
