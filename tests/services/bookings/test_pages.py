""" "Mes inscriptions" and the staff queue, as HTML pages through the real gateway."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from services.kit.testing import TestSigner

from .factories import create_period
from .portal import PARENT_EMAIL, PASSWORD, STAFF_EMAIL, Portal


async def sign_in(client: Any, base_url: str, email: str) -> None:
    client.session.cookie_jar.clear()  # another person at the same browser
    response = await client.post(
        "/connexion",
        data={"email": email, "password": PASSWORD},
        headers={"Origin": base_url},
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


async def request_the_activity_as_the_parent(portal: Portal) -> None:
    """The parent asks, from « Mes inscriptions », to register Enfant TEST to the portal's
    activity and period."""
    client, base = portal.gateway, portal.base_url
    member = {"famille": portal.family_id, "personne": portal.child_id}
    await sign_in(client, base, PARENT_EMAIL)
    html = await (await client.get("/inscriptions", params=member)).text()
    choice = f"{portal.activity['id']}|{portal.period['id']}"
    sent = await client.post(
        "/inscriptions/demande",
        data={"csrf_token": csrf(html), **member, "choix": choice},
        headers={"Origin": base},
    )
    assert sent.status == 200


def queued_id(html: str, activity_name: str) -> str:
    """The id of the queue's row for this activity (the queue holds every family's requests)."""
    rows = re.findall(r'<tr data-registration="([^"]+)">(.*?)</tr>', html, re.S)
    ids = [rid for rid, row in rows if activity_name in row]
    assert len(ids) == 1, ids
    return ids[0]


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


async def test_a_parent_requests_sees_the_refusal_reason_and_staff_accept(
    portal: Portal, signer: TestSigner
) -> None:
    client, base = portal.gateway, portal.base_url
    # A second period stays open all along: the form is offered, the first period greyed in it.
    assert portal.bookings is not None
    await create_period(portal.bookings, signer, portal.activity["id"], name="Vacances d'été 2027")
    await sign_in(client, base, PARENT_EMAIL)
    members = await client.get("/inscriptions")
    assert members.status == 200
    html = await members.text()
    assert "Enfant TEST" in html
    page = await client.get(
        "/inscriptions", params={"famille": portal.family_id, "personne": portal.child_id}
    )
    html = await page.text()
    assert "Aucune inscription." in html
    assert "Inscriptions — Enfant TEST" in html  # not « Inscriptions de Enfant TEST »
    choice = f"{portal.activity['id']}|{portal.period['id']}"
    assert choice in html
    form = {"csrf_token": csrf(html), "famille": portal.family_id, "personne": portal.child_id}

    sent = await client.post(
        "/inscriptions/demande", data={**form, "choix": choice},
        headers={"Origin": base}, allow_redirects=False,
    )  # fmt: skip
    assert sent.status == 303, await sent.text()
    assert sent.headers["Location"].startswith("/inscriptions?")  # a refresh asks nothing again
    after = await (await client.get(sent.headers["Location"])).text()
    assert "Votre demande d'inscription a été enregistrée." in text_of(after)
    assert "demandée" in text_of(after)
    # The period asked is no longer offered: shown, greyed, with why.
    assert f'<option value="{choice}" disabled>' in after
    assert f"{portal.activity['name']} — Vacances de printemps 2027 (déjà demandée)" in text_of(
        after
    )

    # From a page opened before (another tab), the service still refuses it.
    twice = await client.post(
        "/inscriptions/demande", data={**form, "choix": choice}, headers={"Origin": base}
    )
    assert twice.status == 409
    refused = await twice.text()
    assert "Enfant TEST a déjà une inscription demandée" in text_of(refused)
    # The refused choice is still the one selected, now marked: the parent picks another.
    assert f'<option value="{choice}" selected disabled>' in refused

    # Staff: the queue, then accept.
    staff = portal.gateway
    await sign_in(staff, base, STAFF_EMAIL)
    queue = await staff.get("/agents/inscriptions", params={"activite": portal.activity["id"]})
    queue_html = await queue.text()
    assert queue.status == 200
    registration_id = queued_id(queue_html, portal.activity["name"])
    decided = await staff.post(
        "/agents/inscriptions/decisions",
        data={
            "csrf_token": csrf(queue_html),
            "ids": registration_id,
            "decision": "accept",
            "activite": portal.activity["id"],
        },
        headers={"Origin": base},
        allow_redirects=False,
    )
    # Post/Redirect/Get: back to the queue, its filter kept; a refresh decides nothing again.
    assert decided.status == 303, await decided.text()
    location = decided.headers["Location"]
    assert location.startswith("/agents/inscriptions?") and portal.activity["id"] in location
    shown = text_of(await (await staff.get(location)).text())
    assert "Demande acceptée." in shown and "Aucune demande en attente." in shown

    await sign_in(client, base, PARENT_EMAIL)
    final = await client.get(
        "/inscriptions", params={"famille": portal.family_id, "personne": portal.child_id}
    )
    final_html = await final.text()
    assert "acceptée" in text_of(final_html)
    # Cancelling takes two taps: « Annuler » opens the question, its button confirms.
    disclosure = re.search(r'<details class="confirm">(.*?)</details>', final_html, re.S)
    assert disclosure and "<summary>Annuler</summary>" in disclosure.group(1)
    assert "Confirmer l&#39;annulation" in disclosure.group(1)
    assert 'action="/inscriptions/' in disclosure.group(1)
    assert f'<option value="{choice}" disabled>' in final_html
    assert "Vacances de printemps 2027 (inscription acceptée)" in text_of(final_html)
    english = await client.get(
        "/inscriptions",
        params={"famille": portal.family_id, "personne": portal.child_id, "lang": "en"},
    )
    assert "Vacances de printemps 2027 (already registered)" in text_of(await english.text())


async def test_the_staff_queue_names_the_family_and_the_time_of_the_request(
    portal: Portal,
) -> None:
    """The agent deciding sees whose request it is (a link to the family's record, named by
    the families service) and when it was made (Paris time: the bookings clock is frozen at
    30/03/2027 08:00 UTC, 10:00 in Paris)."""
    client, base = portal.gateway, portal.base_url
    await request_the_activity_as_the_parent(portal)

    await sign_in(client, base, STAFF_EMAIL)
    for language, requested in (("fr", "30/03/2027 10:00"), ("en", "30 March 2027 at 10:00")):
        queue = await client.get(
            "/agents/inscriptions", params={"activite": portal.activity["id"], "lang": language}
        )
        assert queue.status == 200
        rows = re.findall(r'<tr data-registration="[^"]+">(.*?)</tr>', await queue.text(), re.S)
        assert len(rows) == 1
        link = f'<a href="/agents/familles/{portal.family_id}">TEST</a>'
        assert link in rows[0], rows[0]
        assert requested in text_of(rows[0]), text_of(rows[0])


async def test_parents_cannot_open_the_staff_queue(portal: Portal) -> None:
    client = portal.gateway
    await sign_in(client, portal.base_url, PARENT_EMAIL)
    response = await client.get("/agents/inscriptions")
    assert response.status == 403
    assert "Accès refusé" in await response.text()
    client.session.cookie_jar.clear()
    anonymous = await client.get("/agents/inscriptions", allow_redirects=False)
    assert anonymous.status == 303
    assert anonymous.headers["Location"].startswith("/connexion")


async def test_a_refusal_reason_and_a_failed_check_are_shown_to_the_parent(
    portal: Portal,
) -> None:
    client, base = portal.gateway, portal.base_url
    member = {"famille": portal.family_id, "personne": portal.child_id}
    choice = f"{portal.activity['id']}|{portal.period['id']}"
    await sign_in(client, base, PARENT_EMAIL)
    html = await (await client.get("/inscriptions", params=member)).text()
    form = {"csrf_token": csrf(html), **member, "choix": choice}
    sent = await client.post("/inscriptions/demande", data=form, headers={"Origin": base})
    assert sent.status == 200

    await sign_in(client, base, STAFF_EMAIL)
    queue_html = await (
        await client.get("/agents/inscriptions", params={"activite": portal.activity["id"]})
    ).text()
    registration_id = queued_id(queue_html, portal.activity["name"])
    no_reason = await client.post(
        "/agents/inscriptions/decisions",
        data={"csrf_token": csrf(queue_html), "ids": registration_id, "decision": "refuse"},
        headers={"Origin": base},
    )
    assert no_reason.status == 422
    assert "Indiquez le motif du refus" in text_of(await no_reason.text())
    refused = await client.post(
        "/agents/inscriptions/decisions",
        data={
            "csrf_token": csrf(queue_html),
            "ids": registration_id,
            "decision": "refuse",
            "motif": "Groupe complet pour cette période",
        },
        headers={"Origin": base},
    )
    assert "Demande refusée." in text_of(await refused.text())

    await sign_in(client, base, PARENT_EMAIL)
    page = text_of(await (await client.get("/inscriptions", params=member)).text())
    assert "refusée" in page and "Motif : Groupe complet pour cette période" in page

    # The documents service goes down: the page says the check is impossible, nothing saved.
    await portal.documents.close()
    html = await (await client.get("/inscriptions", params=member)).text()
    form = {"csrf_token": csrf(html), **member, "choix": choice}
    down = await client.post("/inscriptions/demande", data=form, headers={"Origin": base})
    assert down.status == 424
    assert "Vérification des documents impossible pour le moment" in text_of(await down.text())
    still = await (await client.get("/inscriptions", params=member)).text()
    assert len(re.findall(r"<tr data-registration=", still)) == 1  # only the refused one
    # The bookings service stays available: the gateway did not count it as failing.
    assert (await client.get("/inscriptions", params=member)).status == 200


async def test_notices_come_from_a_fixed_list_never_from_the_address(portal: Portal) -> None:
    """`?ok=` only names a sentence of the page's own: words put in a link are not shown
    (found on the billing run: /…?ok=Appelez+le+0899… was shown as a confirmation)."""
    client, base = portal.gateway, portal.base_url
    forged = "Appelez le 0899 123 456 pour confirmer"
    await sign_in(client, base, PARENT_EMAIL)
    member = {"famille": portal.family_id, "personne": portal.child_id}
    page = await client.get("/inscriptions", params={**member, "ok": forged})
    assert forged not in text_of(await page.text())
    await sign_in(client, base, STAFF_EMAIL)
    for query in ({"ok": forged}, {"ok": "acceptees", "n": forged}):
        queue = text_of(await (await client.get("/agents/inscriptions", params=query)).text())
        assert forged not in queue and "0899" not in queue
    counted = await client.get("/agents/inscriptions", params={"ok": "refusees", "n": "3"})
    assert "3 demandes refusées." in text_of(await counted.text())
    absurd = await client.get("/agents/inscriptions", params={"ok": "acceptees", "n": "10**9"})
    assert "Demande acceptée." in text_of(await absurd.text())
    english = await client.get(
        "/agents/inscriptions", params={"ok": "acceptees", "n": "2", "lang": "en"}
    )
    assert "2 requests accepted." in text_of(await english.text())
