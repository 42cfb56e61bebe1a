"""The password forms (first connection, reset, change) after a refusal, through the real
gateway and the real auth service: what the page said before stays, and every error found is
reported at once, each beside its field."""

from __future__ import annotations

import re

from tests.gateway.conftest import same_origin

from .conftest import GOOD_PASSWORD, invite
from .test_pages import body, local, portal

HINT = re.compile(r"Créez le mot de passe du compte ([^<]+)\.")


async def test_the_first_connection_page_still_names_the_account_after_an_error(
    gateway, auth_client, signer
) -> None:
    client, auth = await portal(gateway, auth_client)
    _, link = await invite(auth, signer)
    page = await body(await client.get(local(link)))
    hint = HINT.search(page)
    assert hint, "the page names the invited account"
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)

    mismatch = await client.post(
        "/premiere-connexion",
        data={"token": token, "password": GOOD_PASSWORD, "password_confirm": "autre chose"},
        headers=same_origin(client),
    )

    assert mismatch.status == 400
    again = HINT.search(await body(mismatch))
    assert again and again.group(1) == hint.group(1)
