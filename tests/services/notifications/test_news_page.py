"""« Actualités » (staff): the activity is picked from the real bookings catalogue."""

from __future__ import annotations

import html
from typing import Any

from services.kit.database import Database
from services.kit.testing import TestSigner
from tests.gateway.conftest import same_origin
from tests.services.bookings.factories import create_activity

from .portal import AGENT, make_portal, sign_in
from .smtp_server import SmtpServer


async def publish(client: Any, csrf: str, title: str, activity: str) -> Any:
    """POST the news form as the agent."""
    form = {"csrf_token": csrf, "titre": title, "texte": "Texte.", "activite": activity}
    return await client.post(
        "/agents/actualites", data=form, headers=same_origin(client), allow_redirects=False
    )


async def test_the_news_form_offers_the_catalogue_activities_and_refuses_an_unknown_one(
    database: Database, service_client: Any, gateway: Any, upstream: Any, signer: TestSigner,
    smtp: SmtpServer,
) -> None:  # fmt: skip
    bookings = await service_client("bookings")
    activity = await create_activity(bookings, signer)
    portal = await make_portal(
        database, service_client, gateway, upstream, signer, smtp.port,
        more_services={"bookings": str(bookings.make_url("")).rstrip("/")},
    )  # fmt: skip
    client = portal.client
    csrf = await sign_in(client, AGENT)

    form = html.unescape(await (await client.get("/agents/actualites")).text())
    assert '<select id="activite" name="activite">' in form
    assert '<option value="">Toutes les familles</option>' in form
    assert f'<option value="{activity["id"]}">{activity["name"]}</option>' in form
    assert "identifiant" not in form, "no raw identifier to type"

    published = await publish(client, csrf, "Pour une activité", activity["id"])
    assert published.status == 303
    listed = html.unescape(await (await client.get("/agents/actualites")).text())
    assert f"activité {activity['name']}" in listed, "the list names the activity"

    unknown = await publish(client, csrf, "Activité inventée", "pas-une-activite")
    refused = html.unescape(await unknown.text())
    assert unknown.status == 422 and "Cette activité n'existe pas dans le catalogue." in refused
    assert "Activité inventée" not in refused, "nothing was published"
    english = await (await client.get("/agents/actualites?lang=en")).text()
    assert "All families" in english and "Only for families registered" in english


async def test_without_bookings_the_news_form_asks_the_identifier_and_says_why(
    database: Database, service_client: Any, gateway: Any, upstream: Any, signer: TestSigner,
    smtp: SmtpServer,
) -> None:  # fmt: skip
    portal = await make_portal(database, service_client, gateway, upstream, signer, smtp.port)
    client = portal.client
    csrf = await sign_in(client, AGENT)

    form = html.unescape(await (await client.get("/agents/actualites")).text())
    assert "<select" not in form
    assert (
        '<input id="activite" name="activite" maxlength="64" aria-describedby="activite-note">'
        in form
    )
    assert "Le catalogue des activités ne répond pas pour le moment" in form

    # The catalogue cannot be asked: the agent's identifier is trusted, as before.
    published = await publish(client, csrf, "Sans catalogue", "activite-42")
    assert published.status == 303
    listed = html.unescape(await (await client.get("/agents/actualites")).text())
    assert "Sans catalogue" in listed and "activité activite-42" in listed
    bad = await publish(client, csrf, "Identifiant mal formé", "pas un identifiant !")
    assert bad.status == 422 and "Identifiant mal formé" not in await bad.text()
