"""Registration refusals of the real bookings service, on English pages (by the problem's
`type`), while French pages keep the service's own sentence."""

from __future__ import annotations

from .portal import PARENT_EMAIL, Portal
from .test_pages import csrf, sign_in, text_of


async def test_a_second_request_is_refused_in_english_on_english_pages(portal: Portal) -> None:
    client, base = portal.gateway, portal.base_url
    await sign_in(client, base, PARENT_EMAIL)
    query = {"famille": portal.family_id, "personne": portal.child_id}
    html = await (await client.get("/inscriptions", params=query)).text()
    form = {
        "csrf_token": csrf(html),
        **query,
        "choix": f"{portal.activity['id']}|{portal.period['id']}",
    }
    first = await client.post(
        "/inscriptions/demande", data=form, headers={"Origin": base}, allow_redirects=False
    )
    assert first.status == 303, await first.text()

    french = await client.post("/inscriptions/demande", data=form, headers={"Origin": base})
    english = await client.post(
        "/inscriptions/demande?lang=en", data=form, headers={"Origin": base}
    )

    assert french.status == english.status == 409
    assert "Enfant TEST a déjà une inscription demandée" in text_of(await french.text())
    shown = text_of(await english.text())
    assert "This child already has a registration (requested or accepted)" in shown
    assert "a déjà une inscription" not in shown
