"""« Actualités » (staff): each « Retirer » button names its news to a screen reader, through
the real gateway and notifications service."""

from __future__ import annotations

import html
from typing import Any

from services.kit.database import Database
from services.kit.testing import TestSigner
from services.kit.typography import french_spacing

from .portal import AGENT, make_portal, sign_in
from .smtp_server import SmtpServer
from .test_news_page import publish


async def test_each_withdraw_button_names_its_news(
    database: Database, service_client: Any, gateway: Any, upstream: Any, signer: TestSigner,
    smtp: SmtpServer,
) -> None:  # fmt: skip
    portal = await make_portal(database, service_client, gateway, upstream, signer, smtp.port)
    client = portal.client
    csrf = await sign_in(client, AGENT)
    for title in ("Fermeture le 24 décembre", "Menus de janvier"):
        assert (await publish(client, csrf, title, "")).status == 303
    listed = html.unescape(await (await client.get("/agents/actualites")).text())
    for title in ("Fermeture le 24 décembre", "Menus de janvier"):
        assert (
            french_spacing(f'Retirer<span class="visually-hidden"> « {title} »</span></button>')
            in listed
        )
