"""« Historique de mes actions » names the fields of a change request: the real families service
takes a request, an agent accepts it, a second one is withdrawn, and their events go through the
notifications' own consumer. The lines used to read « Demande de modification envoyée » with an
empty detail, while the families e-mail already named the fields."""

from __future__ import annotations

import html
import re
from typing import Any

from services.kit.database import Database
from services.kit.testing import TestSigner
from tests.services.families.conftest import FamiliesApi, api

from .mailing import deliver
from .portal import PARENT, make_portal, sign_in
from .smtp_server import SmtpServer

__all__ = ["api"]  # the fixture: the real families service


def change_lines(page: str) -> list[tuple[str, str]]:
    """(action, detail) of each change request line of a history page, newest first."""
    rows = re.findall(r'<tr data-event="family\.change_[a-z]+">(.*?)</tr>', page, re.DOTALL)
    # Cells: day and time, action, « Par », detail.
    return [
        tuple(_text(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)[1::2]) for row in rows
    ]


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


async def test_the_history_names_the_fields_of_each_change_request(
    api: FamiliesApi, database: Database, service_client: Any, gateway: Any, upstream: Any,
    signer: TestSigner, smtp: SmtpServer,
) -> None:  # fmt: skip
    home = await api.family(name="ETCHEVERRY")
    phone = await api.requested(home["id"], {"phone_other": "06 11 22 33 44"}, version=1)
    accepted = await api.client.post(
        f"/staff/requests/{phone['id']}/accept", json={}, headers=api.staff()
    )
    assert accepted.status == 200, await accepted.text()
    town = await api.requested(home["id"], {"city": "Bayonne", "postal_code": "64100"}, version=2)
    withdrawn = await api.client.post(
        f"/families/{home['id']}/requests/{town['id']}/withdraw", headers=api.parent(home["id"])
    )
    assert withdrawn.status == 200, await withdrawn.text()

    portal = await make_portal(
        database, service_client, gateway, upstream, signer, smtp.port, family_id=home["id"]
    )
    for message in await api.events(family_id=home["id"]):
        if message["type"].startswith("family.change_"):
            await deliver(database, portal.settings, message)
    await sign_in(portal.client, PARENT)
    french = change_lines(await (await portal.client.get("/historique")).text())
    english = change_lines(await (await portal.client.get("/historique?lang=en")).text())

    assert french == [
        ("Demande de modification retirée", "Code postal, Commune"),
        ("Demande de modification envoyée", "Code postal, Commune"),
        ("Demande de modification acceptée", "Autre téléphone"),
        ("Demande de modification envoyée", "Autre téléphone"),
    ]
    assert english[0] == ("Change request withdrawn", "Postcode, Town")
