"""After enrolling their authenticator at the first sign-in, an agent is told to sign in with the
app's next code, through the real gateway and auth service.

Found trying the portal as the demo agent: the page of recovery codes offered « Se connecter »
and nothing else; the code just used to enrol was then refused (« Ce code n'est pas valable (ou
a déjà servi). ») for the rest of its 30 seconds, which read as a broken authenticator.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any
from urllib.parse import urlparse

import pyotp

from services.kit.testing import TestSigner
from tests.services.auth.conftest import (  # noqa: F401 (the auth tests' fixture)
    GOOD_PASSWORD,
    auth_client,
    staff_headers,
    unique_email,
    url_of,
    wait_for_event,
)

from .conftest import same_origin

NEXT_CODE = (
    "Pour vous connecter, saisissez le prochain code affiché par l'application : "
    "celui que vous venez de saisir ne sert qu'une fois."
)


def text_of(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def field(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]+)"', page)
    assert match, f"no {name} field: {page}"
    return html.unescape(match.group(1))


async def enrolled_agent(gateway: Any, auth_client: Any, signer: TestSigner, lang: str) -> Any:  # noqa: F811
    """An agent invited, password chosen, authenticator enrolled: (client, email, page, code)."""
    auth = await auth_client()
    jwks = await (await auth.get("/.well-known/jwks.json")).json()
    client = await gateway(
        {"auth": url_of(auth)},
        jwks_json=json.dumps(jwks),
        upstream_deadline_seconds=10.0,
        upstream_connect_timeout_seconds=10.0,
    )
    email = unique_email("agent")
    invited = await auth.post(
        "/staff",
        json={"email": email, "roles": ["agent"]},
        headers=staff_headers(signer, "administrator"),
    )
    account_id = (await invited.json())["account"]["id"]
    link = urlparse(
        (await wait_for_event(auth, "account.invited", account_id=account_id))["data"]["link"]
    )
    await client.get(f"/?lang={lang}")  # the language the agent reads, kept in its cookie
    first = await (await client.get(f"{link.path}?{link.query}")).text()
    chosen = await client.post(
        "/premiere-connexion",
        data={"token": field(first, "token"), "password": GOOD_PASSWORD,
              "password_confirm": GOOD_PASSWORD},
        headers=same_origin(client),
    )  # fmt: skip
    enrolment = await chosen.text()
    secret = field(enrolment, "secret")
    code = pyotp.TOTP(secret).now()
    done = await client.post(
        "/double-authentification",
        data={"enrolment_token": field(enrolment, "enrolment_token"), "secret": secret,
              "code": code},
        headers=same_origin(client),
    )  # fmt: skip
    assert done.status == 200
    return client, email, text_of(await done.text()), code


async def test_the_recovery_codes_page_says_to_sign_in_with_the_next_code(
    gateway: Any,
    auth_client: Any,  # noqa: F811
    signer: TestSigner,
) -> None:
    client, email, page, code = await enrolled_agent(gateway, auth_client, signer, "fr")

    assert "La double authentification est activée" in page, page
    assert NEXT_CODE in page, page
    # Why it must say so: the code that enrolled is refused at the sign-in that follows.
    again = await client.post(
        "/connexion",
        data={"email": email, "password": GOOD_PASSWORD, "totp_code": code},
        headers=same_origin(client),
    )
    assert again.status == 401
    assert "déjà servi" in text_of(await again.text())


async def test_the_next_code_advice_reads_in_english(
    gateway: Any,
    auth_client: Any,  # noqa: F811
    signer: TestSigner,
) -> None:
    _, _, page, _ = await enrolled_agent(gateway, auth_client, signer, "en")

    assert "To sign in, enter the next code the app shows" in page, page
