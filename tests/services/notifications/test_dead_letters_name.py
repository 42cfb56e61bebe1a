"""« Événements non traités » (staff): one name for /agents/lettres-mortes in the menu, the
staff home's tile, the sub-menu and the page's own title, French and English, through the real
gateway and notifications service."""

from __future__ import annotations

import html
import re
from typing import Any

from services.kit.database import Database
from services.kit.testing import TestSigner

from .portal import AGENT, make_portal, sign_in
from .smtp_server import SmtpServer


def names_of_the_page(page: str) -> set[str]:
    """Every text the page is called by: the links to it, its <title> and its <h1>."""
    links = re.findall(r'<a[^>]*href="/agents/lettres-mortes"[^>]*>\s*([^<]+?)\s*<', page)
    title = re.search(r"<title>\s*([^<]+?)\s*(?:[-–—|][^<]*)?</title>", page)
    heading = re.search(r"<h1[^>]*>\s*([^<]+?)\s*</h1>", page)
    assert links and title and heading, page
    return {*links, title.group(1), heading.group(1)}


async def test_the_dead_letters_page_has_one_name_everywhere(
    database: Database, service_client: Any, gateway: Any, upstream: Any, signer: TestSigner,
    smtp: SmtpServer,
) -> None:  # fmt: skip
    portal = await make_portal(database, service_client, gateway, upstream, signer, smtp.port)
    client = portal.client
    await sign_in(client, AGENT)
    for lang, name in (("fr", "Événements non traités"), ("en", "Unprocessed events")):
        page = html.unescape(await (await client.get(f"/agents/lettres-mortes?lang={lang}")).text())
        assert names_of_the_page(page) == {name}, lang
        home = html.unescape(await (await client.get(f"/agents?lang={lang}")).text())
        tiles = re.findall(r'<a[^>]*href="/agents/lettres-mortes"[^>]*>\s*([^<]+?)\s*<', home)
        assert tiles and set(tiles) == {name}, (lang, tiles)
