"""« Réservations et présences » says why no list shows, through the real gateway and bookings.

Found trying the portal as a new agent: the page opened with its filters and the queue only
(no activity asked yet), and on a day the activity does not open (the default « today » was a
Sunday) it said « personne n'a de réservation confirmée », which sent the agent looking for
missing children.
"""

from __future__ import annotations

from services.kit.testing import TestSigner
from tests.services.bookings.conftest import (  # noqa: F401 (the bookings tests' fixtures)
    _leave_no_pending_events,
    bookings_app,
    clock,
    stand_in,
)
from tests.services.bookings.conftest import portal as bookings_portal  # noqa: F401
from tests.services.bookings.portal import STAFF_EMAIL, Portal
from tests.services.bookings.test_pages import sign_in, text_of
from tests.services.bookings.test_reservation_pages import WED_1, ready_child

NOT_OPEN = "2027-04-18"  # the Sunday before the spring holidays: the ALSH has no opening


async def _lists(portal: Portal, **query: str) -> str:
    response = await portal.gateway.get("/agents/reservations", params=query)
    page = await response.text()
    assert response.status == 200, page
    return text_of(page)


async def test_the_first_visit_says_to_choose_an_activity_and_a_day(
    bookings_portal: Portal,  # noqa: F811
) -> None:
    portal = bookings_portal
    await sign_in(portal.gateway, portal.base_url, STAFF_EMAIL)

    page = await _lists(portal)

    assert (
        "Choisissez une activité et un jour, puis « Afficher » : la liste des enfants réservés "
        "et le relevé des présences s'affichent ici."
    ) in page, page
    english = await _lists(portal, lang="en")
    assert "Choose an activity and a day, then “Show”" in english, english


async def test_a_day_the_activity_does_not_open_is_said_so(
    bookings_portal: Portal,  # noqa: F811
    signer: TestSigner,
) -> None:
    portal = bookings_portal
    await ready_child(portal, signer)
    await sign_in(portal.gateway, portal.base_url, STAFF_EMAIL)
    activity = portal.activity["id"]

    closed_day = await _lists(portal, activite=activity, jour=NOT_OPEN)
    assert "Aucune ouverture de cette activité ce jour-là : choisissez un autre jour." in closed_day
    assert "personne n'a de réservation confirmée" not in closed_day

    # An open day without a confirmed booking keeps its own sentence.
    open_day = await _lists(portal, activite=activity, jour=WED_1)
    assert "Aucune ouverture" not in open_day
    assert "personne n'a de réservation confirmée" in open_day, open_day
