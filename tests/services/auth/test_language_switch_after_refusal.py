"""« Ma première connexion » and the reset page after refused passwords, through the real
gateway and auth: their « English » link opens the same link's page in English. It pointed
at « /premiere-connexion » (or « /reinitialisation ») without the token, and the parent read
« This link is not valid » about a good link."""

from __future__ import annotations

import html
import re

import pytest
from yarl import URL

from tests.gateway.conftest import same_origin

from .test_pages import body, portal
from .test_password_forms import first_connection_form, reset_form

ENGLISH_FORMS = {
    "/premiere-connexion": "Create the password for the account",
    "/reinitialisation": "Choose a new password",
}


@pytest.mark.parametrize("opened", [first_connection_form, reset_form])
async def test_the_english_link_after_refused_passwords_keeps_the_link(
    gateway, auth_client, signer, opened
) -> None:
    client, auth = await portal(gateway, auth_client)
    path, hidden = await opened(client, auth, signer)
    origin = same_origin(client)["Origin"]
    mismatch = {**hidden, "password": "une phrase assez longue", "password_confirm": "autre"}

    # Refused once from the e-mail's page, then again from the refusal's page (whose address
    # is the form's: the browser's Referer no longer has the token).
    for sent_from in (f"{path}?token={hidden['token']}", path):
        refused = await client.post(
            path, data=mismatch, headers={**same_origin(client), "Referer": origin + sent_from}
        )
        assert refused.status == 400
    link = re.search(r'class="lang-switch" href="([^"]+)"', await body(refused))
    assert link, "the page has its language link"
    english = URL(html.unescape(link.group(1)))
    assert english.path == path and english.query["token"] == hidden["token"]

    page = await client.get(str(english))

    assert page.status == 200
    assert ENGLISH_FORMS[path] in await body(page)
