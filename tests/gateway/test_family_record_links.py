"""The staff's family record links to the family's history and invoices, through the real gateway
and families service.

Found trying the portal as a new agent: « Historique de la famille » was reachable only from a
message thread, and the family's invoices only by typing its name again on « Factures ».
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote

from tests.services.families.conftest import (  # noqa: F401 (the families tests' fixtures)
    Portal,
    api,
    portal,
)
from tests.services.families.pages import STAFF_EMAIL


def links_of(page: str) -> dict[str, str]:
    """Each link's text → its address."""
    return {
        html.unescape(" ".join(re.sub(r"<[^>]+>", " ", text).split())): html.unescape(href)
        for href, text in re.findall(r'<a href="([^"]+)"[^>]*>(.*?)</a>', page, re.S)
    }


async def test_the_family_record_links_to_its_history_and_its_invoices(
    portal: Portal,  # noqa: F811
) -> None:
    family_id = portal.family["id"]
    agent = await portal.visitor(STAFF_EMAIL)

    record = await agent.get(f"/agents/familles/{family_id}")
    links = links_of(await record.text())

    assert record.status == 200
    assert links.get("Historique de la famille") == f"/agents/familles/{family_id}/historique"
    assert links.get("Factures de la famille") == f"/agents/factures?famille={quote(family_id)}"
    for href in (links["Historique de la famille"], links["Factures de la famille"]):
        # The notifications and billing services do not run here: the pages may say they are
        # unavailable, but the links lead to pages of the gateway, not to « Page introuvable ».
        assert (await agent.get(href)).status != 404, href

    english = links_of(await (await agent.get(f"/agents/familles/{family_id}?lang=en")).text())
    assert "Family history" in english and "The family's invoices" in english, english
