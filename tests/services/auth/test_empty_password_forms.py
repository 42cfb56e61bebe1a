"""The password forms (first connection, reset, change) sent with a field left empty, through
the real gateway and the real auth service: the page says what to type, in the page's
language — it showed auth's schema message, « String should have at least 1 character »."""

from __future__ import annotations

import pytest

from tests.gateway.conftest import same_origin

from .test_pages import body, portal
from .test_password_forms import (
    change_form,
    described_by,
    first_connection_form,
    reset_form,
    summary_of,
)

SCHEMA_WORDS = ("String should", "at least 1 character", "Field required")


@pytest.mark.parametrize("opened", [first_connection_form, reset_form, change_form])
async def test_an_empty_password_is_asked_for_in_french(
    gateway, auth_client, signer, opened
) -> None:
    client, auth = await portal(gateway, auth_client)
    path, hidden = await opened(client, auth, signer)

    refused = await client.post(
        path,
        data={**hidden, "password": "", "password_confirm": ""},
        headers=same_origin(client),
    )

    assert refused.status == 422
    page = await body(refused)
    assert "Saisissez le mot de passe que vous choisissez." in described_by(page, "password")
    assert "Saisissez le mot de passe que vous choisissez." in summary_of(page)
    assert not [words for words in SCHEMA_WORDS if words in page]


async def test_an_empty_current_password_is_asked_for_beside_its_field(
    gateway, auth_client, signer
) -> None:
    client, auth = await portal(gateway, auth_client)
    path, hidden = await change_form(client, auth, signer)
    new = "une phrase de passe toute neuve"

    refused = await client.post(
        path,
        data={**hidden, "current": "", "password": new, "password_confirm": new},
        headers=same_origin(client),
    )

    assert refused.status == 422
    page = await body(refused)
    assert "Saisissez votre mot de passe actuel." in described_by(page, "current")
    assert not [words for words in SCHEMA_WORDS if words in page]


async def test_both_empty_are_listed_in_the_forms_order(gateway, auth_client, signer) -> None:
    client, auth = await portal(gateway, auth_client)
    path, hidden = await change_form(client, auth, signer)

    refused = await client.post(
        path,
        data={**hidden, "current": "", "password": "", "password_confirm": ""},
        headers=same_origin(client),
    )

    summary = summary_of(await body(refused))
    current = summary.index("Saisissez votre mot de passe actuel.")
    assert current < summary.index("Saisissez le mot de passe que vous choisissez.")


async def test_an_empty_password_is_asked_for_in_english_on_english_pages(
    gateway, auth_client, signer
) -> None:
    client, auth = await portal(gateway, auth_client)
    path, hidden = await first_connection_form(client, auth, signer)

    refused = await client.post(
        path + "?lang=en",
        data={**hidden, "password": "", "password_confirm": ""},
        headers=same_origin(client),
    )

    page = await body(refused)
    assert "Type the password you choose." in summary_of(page)
    assert not [words for words in SCHEMA_WORDS if words in page]
