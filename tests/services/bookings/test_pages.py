""" "Mes inscriptions" and the staff queue, as HTML pages through the real gateway."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

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


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


async def test_a_parent_requests_sees_the_refusal_reason_and_staff_accept(
    portal: Portal,
) -> None:
    client, base = portal.gateway, portal.base_url
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
    choice = f"{portal.activity['id']}|{portal.period['id']}"
    assert choice in html
    form = {"csrf_token": csrf(html), "famille": portal.family_id, "personne": portal.child_id}

    sent = await client.post(
        "/inscriptions/demande", data={**form, "choix": choice},
        headers={"Origin": base}, allow_redirects=False,
    )  # fmt: skip
    assert sent.status == 303, await sent.text()
    after = await (await client.get(sent.headers["Location"])).text()
    assert "Votre demande d'inscription a été enregistrée." in text_of(after)
    assert "demandée" in text_of(after)

    twice = await client.post(
        "/inscriptions/demande", data={**form, "choix": choice}, headers={"Origin": base}
    )
    assert twice.status == 409
    assert "Enfant TEST a déjà une inscription demandée" in text_of(await twice.text())

    # Staff: the queue, then accept.
    staff = portal.gateway
    await sign_in(staff, base, STAFF_EMAIL)
    queue = await staff.get("/agents/inscriptions")
    queue_html = await queue.text()
    assert queue.status == 200
    registration_id = re.search(r'data-registration="([^"]+)"', queue_html).group(1)
    decided = await staff.post(
        "/agents/inscriptions/decisions",
        data={"csrf_token": csrf(queue_html), "ids": registration_id, "decision": "accept"},
        headers={"Origin": base},
    )
    assert decided.status == 200
    assert "Demande acceptée." in text_of(await decided.text())

    await sign_in(client, base, PARENT_EMAIL)
    final = await client.get(
        "/inscriptions", params={"famille": portal.family_id, "personne": portal.child_id}
    )
    assert "acceptée" in text_of(await final.text())


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
