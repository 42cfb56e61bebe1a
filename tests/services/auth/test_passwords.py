"""Passwords: the rule (promise 9), Argon2id and rehash (8), reset links (10)."""

from __future__ import annotations

import asyncio

import pytest
from argon2 import extract_parameters
from pydantic import ValidationError
from sqlalchemy import select

from services.auth.config import AuthSettings
from services.auth.context import AUTH
from services.auth.models import Account
from services.auth.passwords import check_rule
from services.kit.keys import DATABASE

from .conftest import (
    GOOD_PASSWORD,
    active_family,
    events,
    sign_in,
    token_of,
    unique_email,
    wait_for_event,
)


def test_the_rule_is_length_and_blocklist_not_composition() -> None:
    assert check_rule("correct horse battery staple") == []
    assert check_rule("alllowercaseletters") == []  # no forced mix of character classes
    assert [b.code for b in check_rule("short")] == ["too-short"]
    assert [b.code for b in check_rule("Motdepasse2024!")] == ["too-common"]
    assert [b.code for b in check_rule("AZERTYUIOP123")] == ["too-common"]
    assert [b.code for b in check_rule("aaaaaaaaaaaaaaaa")] == ["too-common"]
    assert [b.code for b in check_rule("739201846285")] == ["digits-only"]
    assert check_rule("7392018462851937") == []
    assert [b.code for b in check_rule("abcdefghijklmnopq" * 16)] == ["too-long"]
    assert [b.code for b in check_rule("jeanne.dupont2024", email="jeanne.dupont@example.org")] == [
        "personal"
    ]


def test_long_unicode_passwords_are_accepted_whole_and_normalised() -> None:
    long_unicode = "Ça, c'est un très long mot de passe 🌻 avec des accents é è à ü ñ 漢字 " * 3
    assert len(long_unicode) <= 256
    assert check_rule(long_unicode) == []
    # Twelve full-width letters are twelve letters once NFKC-normalised: counted, not refused.
    assert check_rule("ｆｕｌｌｗｉｄｔｈｐａｓｓ") == []


async def test_hashes_are_argon2id_at_or_above_the_owasp_floor(auth_client, signer) -> None:
    client = await auth_client()
    parent = await active_family(client, signer)
    async with client.app[DATABASE].sessions() as session:
        stored = await session.scalar(
            select(Account.password_hash).where(Account.email == parent["email"])
        )
    parameters = extract_parameters(stored)
    assert stored.startswith("$argon2id$")
    assert parameters.memory_cost >= 19456 and parameters.time_cost >= 2


def test_settings_below_the_floor_are_refused() -> None:
    with pytest.raises(ValidationError):
        AuthSettings(argon2_memory_kib=8192, argon2_time_cost=1)
    AuthSettings(argon2_memory_kib=47104, argon2_time_cost=1)  # OWASP's other option


async def test_sign_in_rehashes_when_the_parameters_rise(auth_client, signer) -> None:
    low = await auth_client(argon2_time_cost=2)
    parent = await active_family(low, signer)
    high = await auth_client(argon2_time_cost=3)
    response = await sign_in(high, parent["email"], GOOD_PASSWORD)
    assert response.status == 201
    async with high.app[DATABASE].sessions() as session:
        stored = await session.scalar(
            select(Account.password_hash).where(Account.email == parent["email"])
        )
    assert extract_parameters(stored).time_cost == 3
    assert (await sign_in(high, parent["email"], GOOD_PASSWORD)).status == 201


async def test_forgotten_password_end_to_end_revokes_every_session(auth_client, signer) -> None:
    client = await auth_client()
    parent = await active_family(client, signer)
    asked = await client.post("/password-resets", json={"email": parent["email"]})
    assert asked.status == 202
    event = await wait_for_event(
        client, "account.password_reset_requested", account_id=parent["account"]["id"]
    )
    link = event["data"]["link"]
    assert link.startswith("https://portail.example.org/reinitialisation?token=")
    assert event["data"]["kind"] == "family"  # the e-mail names the Espace Famille
    checked = await client.post("/password-resets/check", json={"token": token_of(link)})
    assert checked.status == 200
    new_password = "a brand new passphrase here"
    done = await client.post(
        "/password-resets/confirm", json={"token": token_of(link), "password": new_password}
    )
    assert done.status == 204
    refresh = await client.post(
        "/sessions/refresh", headers={"X-Session-Token": parent["session_token"]}
    )
    assert refresh.status == 401
    assert (await sign_in(client, parent["email"], new_password)).status == 201
    assert await events(
        client, "account.password_reset_completed", account_id=parent["account"]["id"]
    )
    again = await client.post(
        "/password-resets/confirm", json={"token": token_of(link), "password": new_password}
    )
    assert again.status == 410


async def test_twenty_concurrent_uses_of_one_reset_token_give_exactly_one_success(
    auth_client, signer
) -> None:
    client = await auth_client()
    parent = await active_family(client, signer)
    await client.post("/password-resets", json={"email": parent["email"]})
    event = await wait_for_event(
        client, "account.password_reset_requested", account_id=parent["account"]["id"]
    )
    token = token_of(event["data"]["link"])
    attempts = [
        client.post(
            "/password-resets/confirm",
            json={"token": token, "password": f"concurrent passphrase {i}"},
        )
        for i in range(20)
    ]
    responses = await asyncio.gather(*attempts)
    statuses = sorted(r.status for r in responses)
    assert statuses.count(204) == 1, statuses
    assert statuses.count(410) == 19, statuses
    completed = await events(
        client, "account.password_reset_completed", account_id=parent["account"]["id"]
    )
    assert len(completed) == 1


async def test_reset_links_are_capped_per_account_without_changing_the_answer(
    auth_client, signer
) -> None:
    client = await auth_client(reset_requests_per_email_per_hour=2)
    parent = await active_family(client, signer)
    bodies = set()
    for _ in range(4):
        response = await client.post("/password-resets", json={"email": parent["email"]})
        assert response.status == 202
        bodies.add(await response.text())
    await client.app[AUTH].drain()
    sent = await events(
        client, "account.password_reset_requested", account_id=parent["account"]["id"]
    )
    assert len(sent) == 2 and len(bodies) == 1


async def test_unknown_and_invited_accounts_get_no_reset_link(auth_client, signer) -> None:
    client = await auth_client()
    email = unique_email()
    await client.post("/password-resets", json={"email": email})
    await client.app[AUTH].drain()
    assert not [
        e
        for e in await events(client, "account.password_reset_requested")
        if e["data"]["email"] == email
    ]
