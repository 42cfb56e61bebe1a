"""The staff's reservation lists as an agent uses them, through the real gateway and bookings:
a closure asks for confirmation (naming whose reservations it cancels) before cancelling, and
an attendance save with nothing ticked says so, and a save that worked redirects to the list;
so do decisions on pending requests, the list then showing each one's result."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from aiohttp import ClientResponse

from services.kit.testing import TestSigner
from tests.services.bookings.conftest import (  # noqa: F401 (the bookings tests' fixtures)
    _leave_no_pending_events,
    bookings_app,
    clock,
    stand_in,
)
from tests.services.bookings.conftest import portal as bookings_portal  # noqa: F401
from tests.services.bookings.portal import PARENT_EMAIL, STAFF_EMAIL, Portal
from tests.services.bookings.test_pages import csrf, sign_in, text_of
from tests.services.bookings.test_reservation_pages import WED_1, ready_child


def _wed_1(portal: Portal, **more: str) -> dict[str, str]:
    """The staff list's query (and its forms' fields) for the portal's activity on WED_1."""
    return {"activite": portal.activity["id"], "jour": WED_1, **more}


async def _send(portal: Portal, path: str, data: Any, **options: Any) -> ClientResponse:
    """A form posted from one of the portal's own pages (the gateway checks the Origin)."""
    return await portal.gateway.post(
        path, data=data, headers={"Origin": portal.base_url}, **options
    )


async def _staff_list(portal: Portal, **query: str) -> str:
    """The agent signed in, the reservation lists as `query` asks: the page's HTML."""
    await sign_in(portal.gateway, portal.base_url, STAFF_EMAIL)
    return await (await portal.gateway.get("/agents/reservations", params=query)).text()


async def _parent_books_wed_1(portal: Portal, journee: str, key: str) -> str:
    """The parent signed in, Enfant TEST's `journee` opening booked from « Réservations »
    under the idempotency key `key`: the text of the page the save answers."""
    await sign_in(portal.gateway, portal.base_url, PARENT_EMAIL)
    query = {"famille": portal.family_id, "personne": portal.child_id, "semaine": WED_1}
    html = await (await portal.gateway.get("/reservations", params=query)).text()
    form = [
        ("csrf_token", csrf(html)), ("famille", portal.family_id),
        ("personne", portal.child_id), ("semaine", WED_1), ("cle", key),
        ("reserver", journee),
    ]  # fmt: skip
    return text_of(await (await _send(portal, "/reservations/enregistrer", form)).text())


@pytest.fixture
async def booked_portal(
    bookings_portal: Portal,  # noqa: F811
    signer: TestSigner,
) -> Portal:
    """The bookings portal, Enfant TEST booked (confirmed) by the parent on the first
    Wednesday's Journée."""
    openings = await ready_child(bookings_portal, signer)
    journee = openings[(WED_1, "journee")]
    assert ": réservé" in await _parent_books_wed_1(bookings_portal, journee, "closure-confirm")
    return bookings_portal


async def _booked_on_wed_1(portal: Portal) -> bool:
    html = await (
        await portal.gateway.get("/agents/reservations", params=_wed_1(portal, duree="1"))
    ).text()
    return "presence-" in html


async def test_a_closure_is_confirmed_before_any_reservation_is_cancelled(
    booked_portal: Portal,
) -> None:
    portal = booked_portal
    html = await _staff_list(portal, **_wed_1(portal))
    closure = {"csrf_token": csrf(html), **_wed_1(portal, jour_ferme=WED_1, motif="Grève")}
    asked = await _send(portal, "/agents/reservations/fermeture", closure)
    question = text_of(await asked.text())
    assert asked.status == 200, question
    # The first click only says what would happen: the day, whose reservation, no undo.
    assert f"Fermer « {portal.activity['name']} » le mer. 21/04/2027 ?" in question, question
    assert "1 réservation sera annulée et sa famille prévenue par courriel" in question
    assert "Enfant TEST — primaire — Journée" in question, question
    assert "Motif : Grève" in question
    assert await _booked_on_wed_1(portal), "nothing may be cancelled before the confirmation"

    confirmed = await _send(portal, "/agents/reservations/fermeture", {**closure, "confirme": "1"})
    done = text_of(await confirmed.text())
    assert confirmed.status == 200, done
    assert "Fermeture du 21/04/2027 : 1 réservation(s) annulée(s), familles prévenues." in done
    assert not await _booked_on_wed_1(portal)


async def test_the_closure_confirmation_reads_in_english(
    bookings_portal: Portal,  # noqa: F811
    signer: TestSigner,
) -> None:
    portal = bookings_portal
    await ready_child(portal, signer)
    html = await _staff_list(portal)
    asked = await _send(
        portal,
        "/agents/reservations/fermeture?lang=en",
        {"csrf_token": csrf(html), **_wed_1(portal, jour_ferme=WED_1, motif="Strike")},
    )
    question = text_of(await asked.text())
    assert f"Close “{portal.activity['name']}” on Wed 21 Apr 2027?" in question, question
    assert "Nobody is booked that day: the day will only be closed to bookings." in question
    assert "Yes, close and cancel" in question


async def test_saving_attendance_with_nothing_ticked_says_nothing_was_saved(
    booked_portal: Portal,
) -> None:
    portal = booked_portal
    lists = _wed_1(portal, duree="1")
    html = await _staff_list(portal, **lists)
    saved = await _send(
        portal, "/agents/reservations/presences", {"csrf_token": csrf(html), **lists}
    )
    shown = text_of(await saved.text())
    assert saved.status == 422, shown
    assert "Aucune présence cochée : rien n'est enregistré." in shown, shown


async def requested_wed_1(portal: Portal, signer: TestSigner, key: str) -> None:
    """The activity validated by hand, Enfant TEST's Journée of WED_1 asked by the parent (a
    request waiting in the staff's queue)."""
    openings = await ready_child(portal, signer)
    manual = await portal.gateway.patch(
        f"/api/bookings/activities/{portal.activity['id']}",
        json={"validation": "manual"},
        headers=signer.headers(role="staff", subject="agent-1"),
    )
    assert manual.status == 200, await manual.text()
    await _parent_books_wed_1(portal, openings[(WED_1, "journee")], key)


def our_queue_rows(portal: Portal, queue: str) -> list[str]:
    """The queue's rows of this portal's activity (the run's database holds others')."""
    rows = re.findall(r'<tr data-reservation="[^"]+">(.*?)</tr>', queue, re.S)
    return [row for row in rows if portal.activity["name"] in row]


async def test_the_queue_of_reservation_requests_names_each_childs_family(
    bookings_portal: Portal,  # noqa: F811
    signer: TestSigner,
) -> None:
    portal = bookings_portal
    await requested_wed_1(portal, signer, "queue-family")

    queue = await _staff_list(portal)
    ours = our_queue_rows(portal, queue)
    assert len(ours) == 1, queue
    # Which family: its name, a link to its record.
    assert f'<a href="/agents/familles/{portal.family_id}">Famille TEST</a>' in ours[0], ours[0]
    decided = await _send(
        portal,
        "/agents/reservations/decisions",
        {
            "csrf_token": csrf(queue),
            "ids": re.findall(r'name="ids" value="([^"]+)"', ours[0]),
            "decision": "refuse",
            "motif": "Complet",
        },
    )
    assert decided.status == 200


async def test_saving_attendance_redirects_to_the_list_which_says_it_was_saved(
    booked_portal: Portal,
) -> None:
    # Answered with a page, the save was sent again by a reload on the phone (the browser
    # asking « send the form again? »): post/redirect/get, the confirmation after the redirect.
    portal = booked_portal
    lists = _wed_1(portal, duree="1")
    html = await _staff_list(portal, **lists)
    field = re.search(r'name="(presence-[^"]+)" value="present"', html)
    assert field, html
    for lang, said in (("fr", "1 présence enregistrée."), ("en", "1 attendance mark saved.")):
        saved = await _send(
            portal,
            f"/agents/reservations/presences?lang={lang}",
            {"csrf_token": csrf(html), **lists, field.group(1): "present"},
            allow_redirects=False,
        )
        assert saved.status == 303, text_of(await saved.text())
        location = saved.headers["Location"]
        assert location.startswith("/agents/reservations?"), location
        page = await (await portal.gateway.get(location)).text()
        assert said in text_of(page), text_of(page)
        # The list it lands on is the same day's, the child's mark shown ticked.
        assert re.search(rf'name="{field.group(1)}" value="present"[^>]*checked', page), page
    # A forged count (« ² » passes str.isdigit() and fails int(), so do 5,000 digits): the
    # list without a confirmation, not a 500.
    for forged in ("²", "9" * 5000):
        page = await portal.gateway.get("/agents/reservations", params={"presences": forged})
        assert page.status == 200, forged[:5]
        assert "enregistrée" not in text_of(await page.text())


async def test_the_attendance_csv_names_each_child_s_family_and_its_phone(
    booked_portal: Portal,
) -> None:
    # The family's name comes from the families service: the roster knows only its id.
    portal = booked_portal
    token = csrf(await _staff_list(portal))
    phoned = await portal.gateway.patch(
        f"/api/families/families/{portal.family_id}",
        json={"version": 1, "phone": "0559000000"},
        headers={"Origin": portal.base_url, "X-CSRF-Token": token},
    )
    assert phoned.status == 200, await phoned.text()
    exported = await portal.gateway.get("/agents/reservations.csv", params=_wed_1(portal))
    assert exported.status == 200
    rows = [line.split(";") for line in (await exported.read()).decode("utf-8-sig").splitlines()]
    assert rows[0][3:6] == ["enfant", "famille", "téléphone"], rows[0]
    assert [row[3:6] for row in rows[1:]] == [["Enfant TEST", "TEST", "05 59 00 00 00"]], rows


async def test_decisions_redirect_to_the_list_which_shows_each_result_and_a_reload_sends_nothing(
    bookings_portal: Portal,  # noqa: F811
    signer: TestSigner,
) -> None:
    # Answered with a page, the decisions were sent again by a reload (the browser asking
    # « send the form again? »): post/redirect/get, each result shown after the redirect.
    portal = bookings_portal
    await requested_wed_1(portal, signer, "decisions-prg")
    queue = await _staff_list(portal, **_wed_1(portal))
    ours = our_queue_rows(portal, queue)
    assert len(ours) == 1, queue
    asked = re.findall(r'name="ids" value="([^"]+)"', ours[0])
    # A request decided meanwhile (or never made): its own result, with its reason.
    unknown = str(uuid.uuid4())
    decided = await _send(
        portal,
        "/agents/reservations/decisions",
        {"csrf_token": csrf(queue), **_wed_1(portal), "ids": [*asked, unknown],
         "decision": "accept"},
        allow_redirects=False,
    )  # fmt: skip
    assert decided.status == 303, text_of(await decided.text())
    location = decided.headers["Location"]
    assert location.startswith("/agents/reservations?"), location
    # The same list it was sent from, the results named by a ticket, not written in the query.
    assert f"activite={portal.activity['id']}" in location and f"jour={WED_1}" in location
    assert "Enfant" not in location and "Demande" not in location, location

    accepted = f"Enfant TEST — {portal.activity['name']}, Journée, mer. 21/04/2027 : réservé"
    for _reload in range(2):  # the page the redirect leads to, then its reload: the same
        shown = text_of(await (await portal.gateway.get(location)).text())
        assert accepted in shown, shown
        assert "Demande inconnue ou déjà traitée." in shown, shown
    # Decided once: the request left the queue, the child is booked on the list.
    html = await (await portal.gateway.get("/agents/reservations", params=_wed_1(portal))).text()
    assert our_queue_rows(portal, html) == [] and "presence-" in html

    # The results are the session's: signed in again (a new session), the ticket shows nothing.
    await sign_in(portal.gateway, portal.base_url, STAFF_EMAIL)
    other = text_of(await (await portal.gateway.get(location)).text())
    assert accepted not in other and "Demande inconnue" not in other, other


async def test_decisions_results_after_the_redirect_read_in_english(
    bookings_portal: Portal,  # noqa: F811
    signer: TestSigner,
) -> None:
    portal = bookings_portal
    await requested_wed_1(portal, signer, "decisions-prg-en")
    queue = await _staff_list(portal, **_wed_1(portal))
    asked = re.findall(r'name="ids" value="([^"]+)"', our_queue_rows(portal, queue)[0])
    decided = await _send(
        portal,
        "/agents/reservations/decisions?lang=en",
        {"csrf_token": csrf(queue), **_wed_1(portal), "ids": [*asked, str(uuid.uuid4())],
         "decision": "accept"},
    )  # fmt: skip
    shown = text_of(await decided.text())
    assert decided.url.path == "/agents/reservations", decided.url
    assert f"Enfant TEST — {portal.activity['name']}, Journée, Wed 21 Apr 2027: booked" in shown, (
        shown
    )
    assert "Unknown request, or already decided." in shown, shown
