"""« Mes réservations » and the staff's reservation lists in English through the real gateway,
bookings, families and documents services: each change's result, the planning's reasons and
rules, and the staff's decisions, repeated decisions and closures say in English what the
French pages say (they showed the service's or the page's French)."""

from __future__ import annotations

import re
from typing import Any

from services.kit.testing import TestSigner
from tests.services.bookings.conftest import (  # noqa: F401 (the bookings tests' fixtures)
    _leave_no_pending_events,
    bookings_app,
    clock,
    stand_in,
)
from tests.services.bookings.conftest import portal as bookings_portal  # noqa: F401
from tests.services.bookings.portal import PARENT_EMAIL, STAFF_EMAIL, Portal
from tests.services.bookings.test_pages import (
    csrf,
    queued_id,
    request_the_activity_as_the_parent,
    sign_in,
    text_of,
)
from tests.services.bookings.test_reservation_pages import WED_1, WED_2, ready_child

from .test_i18n_coverage import french_left

# The portal's names (data, kept as they are) and « Mon », Monday's English abbreviation.
NAMES = ("Enfant TEST", "Vacances de printemps 2027", "Journée", "Matin", "Après-midi",
         "primaire", "maternelle", "Mairie de Hasparren", "TEST", "Mon")  # fmt: skip


async def _manual_activity(portal: Portal, signer: TestSigner) -> dict[tuple[str, str], str]:
    openings = await ready_child(portal, signer)
    manual = await portal.gateway.patch(
        f"/api/bookings/activities/{portal.activity['id']}",
        json={"validation": "manual"},
        headers=signer.headers(role="staff", subject="agent-1"),
    )
    assert manual.status == 200, await manual.text()
    return openings


async def test_a_parents_save_reads_in_english_with_the_services_reasons(
    bookings_portal: Portal,  # noqa: F811
    signer: TestSigner,
) -> None:
    portal = bookings_portal
    openings = await _manual_activity(portal, signer)
    client, base = portal.gateway, portal.base_url
    data = (portal.activity["name"], *NAMES)
    await sign_in(client, base, PARENT_EMAIL)
    query = {"famille": portal.family_id, "personne": portal.child_id, "semaine": WED_1}
    html = await (await client.get("/reservations", params={**query, "lang": "en"})).text()
    form = [
        ("csrf_token", csrf(html)), ("famille", portal.family_id),
        ("personne", portal.child_id), ("semaine", WED_1), ("cle", "english-save"),
        ("reserver", openings[(WED_1, "journee")]), ("reserver", openings[(WED_1, "matin")]),
    ]  # fmt: skip
    saved = await client.post(
        "/reservations/enregistrer?lang=en", data=form, headers={"Origin": base}
    )
    page = await saved.text()
    shown = text_of(page)
    assert saved.status == 200, shown
    assert "(Journée): request pending (approval by the structure)" in shown, shown
    assert "refused: “Matin” cannot be booked on the same day as “Journée”" in shown, shown
    # The planning below: the rules above the grid and the incompatible cell's reason.
    assert "booking until the day starts; cancelling until the day starts" in shown, shown
    assert "Not compatible with “Journée” (request pending) that day." in shown, shown
    assert french_left(page, data) == []
    await _leave_nothing_pending(portal, signer)


async def test_staff_decisions_and_closures_read_in_english(
    bookings_portal: Portal,  # noqa: F811
    signer: TestSigner,
) -> None:
    portal = bookings_portal
    openings = await _manual_activity(portal, signer)
    client, base = portal.gateway, portal.base_url
    data = await _names_in_the_database(portal, signer)
    await sign_in(client, base, PARENT_EMAIL)
    query = {"famille": portal.family_id, "personne": portal.child_id, "semaine": WED_1}
    html = await (await client.get("/reservations", params=query)).text()
    form = [
        ("csrf_token", csrf(html)), ("famille", portal.family_id),
        ("personne", portal.child_id), ("semaine", WED_1), ("cle", "english-staff"),
        ("reserver", openings[(WED_1, "journee")]),
    ]  # fmt: skip
    asked = await client.post("/reservations/enregistrer", data=form, headers={"Origin": base})
    assert asked.status == 200

    await sign_in(client, base, STAFF_EMAIL)
    lists = {"activite": portal.activity["id"], "lang": "en"}
    queue = await (await client.get("/agents/reservations", params=lists)).text()
    assert french_left(queue, data) == []
    ours = await _pending_of(portal, signer)
    pending = [i for i in re.findall(r'name="ids" value="([^"]+)"', queue) if i in ours]
    assert len(pending) == 1, queue
    answers: dict[str, Any] = {}
    for name, path, body in (
        ("refused", "decisions", {"ids": pending[0], "decision": "refuse", "motif": "Full"}),
        ("again", "decisions", {"ids": pending[0], "decision": "accept"}),
        ("nothing", "decisions", {"decision": "accept"}),
        ("closed", "fermeture", {"activite": portal.activity["id"], "jour_ferme": WED_2,
                                 "motif": "Strike", "confirme": "1"}),
    ):  # fmt: skip
        response = await client.post(
            f"/agents/reservations/{path}?lang=en",
            data={"csrf_token": csrf(queue), **body},
            headers={"Origin": base},
        )
        answers[name] = await response.text()
        assert french_left(answers[name], data) == [], name

    activity = portal.activity["name"]
    assert f"Enfant TEST — {activity}, Journée, Wed 21 Apr 2027: refused" in text_of(
        answers["refused"]
    )
    assert "Unknown request, or already decided." in text_of(answers["again"])
    assert "Select requests (and a reason to refuse)." in text_of(answers["nothing"])
    assert "Closed on 28 April 2027: 0 booking(s) cancelled, families told." in text_of(
        answers["closed"]
    )
    # The day's lists are headed by the day as people write it, not the service's ISO day.
    roster = await client.get("/agents/reservations", params={**lists, "jour": WED_1})
    headed = text_of(await roster.text())
    assert "Wed 21 Apr 2027 — primaire — Journée" in headed and f"{WED_1} —" not in headed


async def _pending_of(portal: Portal, signer: TestSigner) -> list[str]:
    """This portal's activity's requests waiting for staff (the run's database has others')."""
    assert portal.bookings is not None
    listed = await portal.bookings.get(
        "/reservations",
        params={"state": "requested", "limit": "200"},
        headers=signer.headers(role="staff", subject="agent-1"),
    )
    assert listed.status == 200, await listed.text()
    name = portal.activity["name"]
    return [r["id"] for r in (await listed.json())["items"] if r["activity_name"] == name]


async def _leave_nothing_pending(portal: Portal, signer: TestSigner) -> None:
    """Other tests read the staff's queue of the shared database: refuse what we asked
    (straight from the service: the gateway's client holds a parent's session)."""
    decisions = [
        {"reservation_id": i, "decision": "refuse", "reason": "test"}
        for i in await _pending_of(portal, signer)
    ]
    if not decisions:
        return
    assert portal.bookings is not None
    decided = await portal.bookings.post(
        "/reservations/decisions",
        json={"decisions": decisions},
        headers=signer.headers(role="staff", subject="agent-1"),
    )
    assert decided.status == 200, await decided.text()


async def _names_in_the_database(portal: Portal, signer: TestSigner) -> tuple[str, ...]:
    """What the staff's lists may show of the run's shared database (other tests' activities
    and children): data, kept as they are; longest first (« Matinée » before « Matin »)."""
    assert portal.bookings is not None
    staff = signer.headers(role="staff", subject="agent-1")
    found: set[str] = {portal.activity["name"], *NAMES}
    activities = await (await portal.bookings.get("/activities", headers=staff)).json()
    for activity in activities["items"]:
        found |= {activity["name"], *(g["name"] for g in activity["groups"])}
        found |= {u["label"] for u in activity["units"]}
    pending = await portal.bookings.get(
        "/reservations", params={"state": "requested", "limit": "200"}, headers=staff
    )
    found |= {r["person_name"] for r in (await pending.json())["items"]}
    return tuple(sorted(found, key=len, reverse=True))


async def test_staff_registration_decisions_read_in_english(
    bookings_portal: Portal,  # noqa: F811
    signer: TestSigner,
) -> None:
    """A decision on a request already decided answered with the service's French sentence
    (« Cette demande est déjà acceptée. »), a refusal without reason with the page's own."""
    portal = bookings_portal
    client, base = portal.gateway, portal.base_url
    await request_the_activity_as_the_parent(portal)

    await sign_in(client, base, STAFF_EMAIL)
    lists = {"activite": portal.activity["id"], "lang": "en"}
    queue = await (await client.get("/agents/inscriptions", params=lists)).text()
    registration_id = queued_id(queue, portal.activity["name"])
    answers = []
    for body in ({"decision": "refuse"}, {"decision": "accept"}, {"decision": "accept"}):
        response = await client.post(
            "/agents/inscriptions/decisions?lang=en",
            data={"csrf_token": csrf(queue), "ids": registration_id, **body},
            headers={"Origin": base},
        )
        answers.append(text_of(await response.text()))
    assert "Give the reason for refusing: the family will read it." in answers[0]
    assert "Request accepted." in answers[1], answers[1]
    assert "This request is already accepted." in answers[2], answers[2]
    assert "déjà" not in answers[2] and "motif" not in answers[0]
