"""The password forms (first connection, reset, change) after a refusal, through the real
gateway and the real auth service: what the page said before stays, and every error found is
reported at once, each beside its field."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.gateway.conftest import same_origin

from .conftest import GOOD_PASSWORD, active_family, invite, wait_for_event
from .test_pages import body, csrf_of, local, portal

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


class Fields(HTMLParser):
    """Each input's attributes, and each element's text by its id."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: dict[str, dict[str, str]] = {}
        self.texts: dict[str, str] = {}
        self._open: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "input" and "id" in found:
            self.inputs[found["id"]] = found
        if tag not in ("input", "br", "meta", "link", "img"):
            self._open.append(found.get("id"))
            if found.get("id"):
                self.texts.setdefault(found["id"], "")

    def handle_endtag(self, tag: str) -> None:
        if tag not in ("input", "br", "meta", "link", "img") and self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for opened in self._open:
            if opened:
                self.texts[opened] += data


def described_by(page: str, field: str) -> str:
    """The text of what `field` names in aria-describedby (its errors, its hint)."""
    parsed = Fields()
    parsed.feed(page)
    attributes = parsed.inputs[field]
    ids = attributes.get("aria-describedby", "").split()
    return " ".join(" ".join(parsed.texts.get(i, "").split()) for i in ids)


def summary_of(page: str) -> str:
    parsed = Fields()
    parsed.feed(page)
    return " ".join(parsed.texts.get("form-errors", "").split())


SHORT = {"password": "court", "password_confirm": "différent"}


async def first_connection_form(client, auth, signer) -> tuple[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    _, link = await invite(auth, signer)
    page = await body(await client.get(local(link)))
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    return "/premiere-connexion", {"token": token}


async def reset_form(client, auth, signer) -> tuple[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    parent = await active_family(auth, signer)
    await client.post(
        "/mot-de-passe-oublie", data={"email": parent["email"]}, headers=same_origin(client)
    )
    event = await wait_for_event(
        auth, "account.password_reset_requested", account_id=parent["account"]["id"]
    )
    page = await body(await client.get(local(event["data"]["link"])))
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    return "/reinitialisation", {"token": token}


async def change_form(client, auth, signer) -> tuple[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    parent = await active_family(auth, signer)
    await client.post(
        "/connexion",
        data={"email": parent["email"], "password": GOOD_PASSWORD},
        headers=same_origin(client),
    )
    page = await body(await client.get("/mot-de-passe"))
    return "/mot-de-passe", {"csrf_token": csrf_of(page), "current": GOOD_PASSWORD}


@pytest.mark.parametrize("opened", [first_connection_form, reset_form, change_form])
async def test_a_short_password_typed_differently_twice_gets_both_errors_beside_their_fields(
    gateway, auth_client, signer, opened
) -> None:
    client, auth = await portal(gateway, auth_client)
    path, hidden = await opened(client, auth, signer)

    refused = await client.post(path, data={**hidden, **SHORT}, headers=same_origin(client))

    assert refused.status == 400
    page = await body(refused)
    summary = summary_of(page)
    assert "Au moins 12 caractères." in summary
    assert "ne sont pas identiques" in summary
    assert "Au moins 12 caractères." in described_by(page, "password")
    assert "ne sont pas identiques" not in described_by(page, "password")
    assert "ne sont pas identiques" in described_by(page, "password_confirm")
    assert 'href="#password"' in page and 'href="#password_confirm"' in page


async def test_a_wrong_current_password_is_tied_to_its_field(gateway, auth_client, signer) -> None:
    client, auth = await portal(gateway, auth_client)
    path, hidden = await change_form(client, auth, signer)
    new = "une phrase de passe toute neuve"

    refused = await client.post(
        path,
        data={**hidden, "current": "pas le bon", "password": new, "password_confirm": new},
        headers=same_origin(client),
    )

    assert refused.status == 403
    page = await body(refused)
    assert "actuel n'est pas le bon" in described_by(page, "current")
    assert "actuel n'est pas le bon" in summary_of(page)


async def test_an_english_e_mail_link_opens_the_first_connection_page_in_english(
    gateway, auth_client, signer
) -> None:
    """The notifications service adds `lang=en` to an English account's links: a browser
    that never chose English opens the page in English, and keeps it (the `lang` cookie)."""
    client, auth = await portal(gateway, auth_client)
    _, link = await invite(auth, signer)

    page = await client.get(local(link) + "&lang=en")

    assert page.status == 200
    html = await body(page)
    assert "My first sign-in" in html and "Create the password for the account" in html
    assert "lang=en" in page.headers.get("Set-Cookie", "")
