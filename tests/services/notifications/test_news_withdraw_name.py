"""« Actualités » (staff): each « Retirer » names its news to a screen reader and asks before
withdrawing, through the real gateway and notifications service."""

from __future__ import annotations

import html
import re
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
            french_spacing(f'Retirer<span class="visually-hidden"> « {title} »</span></summary>')
            in listed
        )
        assert (
            french_spacing(
                f'Confirmer le retrait<span class="visually-hidden"> « {title} »</span></button>'
            )
            in listed
        )


async def test_withdrawing_a_news_asks_first(
    database: Database, service_client: Any, gateway: Any, upstream: Any, signer: TestSigner,
    smtp: SmtpServer,
) -> None:  # fmt: skip
    """Withdrawing cannot be undone: the form sits behind a question, in French and English."""
    portal = await make_portal(database, service_client, gateway, upstream, signer, smtp.port)
    client = portal.client
    csrf = await sign_in(client, AGENT)
    assert (await publish(client, csrf, "Fermeture le 24 décembre", "")).status == 303

    listed = html.unescape(await (await client.get("/agents/actualites")).text())
    english = html.unescape(await (await client.get("/agents/actualites?lang=en")).text())

    disclosures = re.findall(r'<details class="confirm">(.*?)</details>', listed, re.S)
    assert any("/retirer" in d and "Confirmer le retrait" in d for d in disclosures), listed
    assert french_spacing("Retirer cette actualité ? Les familles ne la verront plus") in listed
    assert "Withdraw this news item?" in english and "Confirm the withdrawal" in english
