"""« Ma première connexion » after a refused password, through the real gateway and auth: its
« English » link opens the same invitation in English. It pointed at « /premiere-connexion »
without the token, and the parent read « This link is not valid » about a good invitation."""

from __future__ import annotations

import html
import re

from yarl import URL

from tests.gateway.conftest import same_origin

from .test_pages import body, portal
from .test_password_forms import first_connection_form


async def test_the_english_link_after_a_refused_password_keeps_the_invitation(
    gateway, auth_client, signer
) -> None:
    client, auth = await portal(gateway, auth_client)
    path, hidden = await first_connection_form(client, auth, signer)
    origin = same_origin(client)["Origin"]
    invitation = f"{path}?token={hidden['token']}"

    refused = await client.post(
        path,
        data={**hidden, "password": "une phrase assez longue", "password_confirm": "autre"},
        headers={**same_origin(client), "Referer": origin + invitation},
    )
    assert refused.status == 400
    link = re.search(r'class="lang-switch" href="([^"]+)"', await body(refused))
    assert link, "the page has its language link"
    english = URL(html.unescape(link.group(1)))
    assert english.path == path and english.query["token"] == hidden["token"]

    page = await client.get(str(english))

    assert page.status == 200
    assert "Create the password for the account" in await body(page)
