"""« Documentation structure » (staff): « Retirer » names its document to a screen reader and
asks first, since withdrawing deletes the file for every family. Through the real gateway and
documents service."""

from __future__ import annotations

import re
from html import unescape

from aiohttp import web

from services.kit.testing import TestSigner
from services.kit.typography import french_spacing
from tests.gateway.conftest import same_origin

from .api import staff
from .portal import portal as _portal
from .portal import sign_in as _sign_in


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


async def test_withdrawing_a_published_document_names_it_and_asks_first(
    service_client, make_documents, gateway, upstream, aiohttp_client, signer: TestSigner
) -> None:
    catalogue = web.Application()  # no activity needed: the types' editor asks for them
    catalogue.router.add_get("/activities", lambda _r: web.json_response({"items": []}))
    bookings = await upstream(catalogue)
    client, documents, _, _, _ = await _portal(
        service_client, make_documents, gateway, upstream, signer, bookings=bookings.url
    )
    agent = await aiohttp_client(client.server)
    csrf = await _sign_in(agent, "agent@example.org")
    origin = same_origin(agent)
    for title in ("Fiche sanitaire", "Menus de janvier"):
        form = {"csrf_token": csrf, "titre": title, "categorie": "Formulaires"}
        assert (await agent.post("/agents/documentation", data=form, headers=origin)).status == 200

    page = unescape(await (await agent.get("/agents/documentation")).text())
    for title in ("Fiche sanitaire", "Menus de janvier"):
        assert (
            french_spacing(f'Retirer<span class="visually-hidden"> « {title} »</span></button>')
            in page
        )
    listed = await (await documents.get("/staff/org-documents", headers=staff(signer))).json()
    sheet = next(d for d in listed["items"] if d["title"] == "Fiche sanitaire")

    asked = await agent.post(
        f"/agents/documentation/{sheet['id']}/retirer", data={"csrf_token": csrf}, headers=origin
    )
    question = _text(await asked.text())
    assert asked.status == 200, question
    assert "Retirer « Fiche sanitaire » ?" in question, question
    assert "Oui, retirer le document" in question and "Non, le garder" in question
    still = await (await documents.get("/staff/org-documents", headers=staff(signer))).json()
    assert len(still["items"]) == 2, "nothing is withdrawn before the confirmation"

    english = await agent.post(
        f"/agents/documentation/{sheet['id']}/retirer?lang=en",
        data={"csrf_token": csrf},
        headers=origin,
    )
    assert "Withdraw “Fiche sanitaire”?" in _text(await english.text())

    done = await agent.post(
        f"/agents/documentation/{sheet['id']}/retirer?lang=fr",
        data={"csrf_token": csrf, "confirme": "1"},
        headers=origin,
    )
    assert "Document retiré." in _text(await done.text())
    left = await (await documents.get("/staff/org-documents", headers=staff(signer))).json()
    assert [d["title"] for d in left["items"]] == ["Menus de janvier"]
