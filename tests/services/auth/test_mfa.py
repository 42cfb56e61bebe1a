"""TOTP: mandatory for staff, optional for parents; a code works once (promise 16)."""

from __future__ import annotations

import jwt
from sqlalchemy import select

from services.auth.models import Account, RecoveryCode
from services.kit.keys import DATABASE
from tests.totp import code_at

from .conftest import (
    GOOD_PASSWORD,
    active_family,
    sign_in,
    staff_headers,
    token_of,
    unique_email,
    wait_for_event,
)


async def enrol_family(client, parent) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    bearer = {"Authorization": f"Bearer {parent['token']}"}
    begun = await client.post("/accounts/me/totp", headers=bearer)
    assert begun.status == 201
    body = await begun.json()
    assert body["otpauth_uri"].startswith("otpauth://totp/")
    confirmed = await client.post(
        "/accounts/me/totp/confirm", json={"code": code_at(body["secret"], -1)}, headers=bearer
    )
    assert confirmed.status == 200, await confirmed.text()
    return body["secret"], (await confirmed.json())["recovery_codes"]


async def test_a_parent_may_enable_totp_and_then_each_code_works_once(auth_client, signer) -> None:
    client = await auth_client()
    parent = await active_family(client, signer)
    secret, recovery = await enrol_family(client, parent)
    assert len(recovery) == 10

    wrong_password = await sign_in(client, parent["email"], "not my password at all")
    assert (await wrong_password.json())["type"].endswith("/invalid-credentials")
    no_code = await sign_in(client, parent["email"], GOOD_PASSWORD)
    assert no_code.status == 401
    assert (await no_code.json())["type"].endswith("/mfa-required")

    current = code_at(secret, 0)
    assert (await sign_in(client, parent["email"], GOOD_PASSWORD, totp_code=current)).status == 201
    replay = await sign_in(client, parent["email"], GOOD_PASSWORD, totp_code=current)
    assert replay.status == 401 and (await replay.json())["type"].endswith("/mfa-required")
    # The code used to confirm the enrolment (an older step) is spent too.
    older = await sign_in(client, parent["email"], GOOD_PASSWORD, totp_code=code_at(secret, -1))
    assert older.status == 401
    assert (
        await sign_in(client, parent["email"], GOOD_PASSWORD, totp_code=code_at(secret, 1))
    ).status == 201


async def test_recovery_codes_are_hashed_and_single_use(auth_client, signer) -> None:
    client = await auth_client()
    parent = await active_family(client, signer)
    _, recovery = await enrol_family(client, parent)
    async with client.app[DATABASE].sessions() as session:
        stored = list(await session.scalars(select(RecoveryCode.code_hash)))
    assert not set(recovery) & set(stored)
    first = await sign_in(client, parent["email"], GOOD_PASSWORD, totp_code=recovery[0])
    assert first.status == 201
    again = await sign_in(client, parent["email"], GOOD_PASSWORD, totp_code=recovery[0])
    assert again.status == 401


async def test_totp_secrets_are_encrypted_at_rest(auth_client, signer) -> None:
    client = await auth_client()
    parent = await active_family(client, signer)
    secret, _ = await enrol_family(client, parent)
    async with client.app[DATABASE].sessions() as session:
        sealed = await session.scalar(
            select(Account.totp_secret_enc).where(Account.id == parent["account"]["id"])
        )
    assert sealed and secret.encode() not in sealed


async def test_a_parent_may_turn_totp_off_with_the_password(auth_client, signer) -> None:
    client = await auth_client()
    parent = await active_family(client, signer)
    await enrol_family(client, parent)
    bearer = {"Authorization": f"Bearer {parent['token']}"}
    wrong = await client.post(
        "/accounts/me/totp/disable", json={"password": "nope nope nope"}, headers=bearer
    )
    assert wrong.status == 403
    ok = await client.post(
        "/accounts/me/totp/disable", json={"password": GOOD_PASSWORD}, headers=bearer
    )
    assert ok.status == 204
    assert (await sign_in(client, parent["email"], GOOD_PASSWORD)).status == 201


async def test_staff_get_no_session_without_enrolling_totp(auth_client, signer) -> None:
    client = await auth_client()
    email = unique_email("agent")
    invited = await client.post(
        "/staff",
        json={"email": email, "roles": ["agent"]},
        headers=staff_headers(signer, "administrator"),
    )
    assert invited.status == 201
    account_id = (await invited.json())["account"]["id"]
    event = await wait_for_event(client, "account.invited", account_id=account_id)
    accepted = await client.post(
        "/invitations/accept",
        json={"token": token_of(event["data"]["link"]), "password": GOOD_PASSWORD},
    )
    assert accepted.status == 201
    body = await accepted.json()
    assert body["session"] is None and body["mfa_enrolment_required"] is True

    refused = await sign_in(client, email, GOOD_PASSWORD)
    assert refused.status == 403
    problem = await refused.json()
    assert problem["type"].endswith("/mfa-enrolment-required")
    enrolment = {"X-Enrolment-Token": problem["enrolment_token"]}

    begun = await client.post("/mfa/enrolment", headers=enrolment)
    assert begun.status == 201
    secret = (await begun.json())["secret"]
    bad = await client.post("/mfa/enrolment/confirm", json={"code": "000000"}, headers=enrolment)
    assert bad.status in (422, 401)
    confirmed = await client.post(
        "/mfa/enrolment/confirm", json={"code": code_at(secret, -1)}, headers=enrolment
    )
    assert confirmed.status == 200
    reused = await client.post("/mfa/enrolment", headers=enrolment)
    assert reused.status == 410  # the enrolment token was single use

    signed_in = await sign_in(client, email, GOOD_PASSWORD, totp_code=code_at(secret, 0))
    assert signed_in.status == 201
    claims = jwt.decode((await signed_in.json())["token"], options={"verify_signature": False})
    assert claims["role"] == "staff" and claims["staff_roles"] == ["agent"]

    bearer = {"Authorization": f"Bearer {(await signed_in.json())['token']}"}
    keep = await client.post(
        "/accounts/me/totp/disable", json={"password": GOOD_PASSWORD}, headers=bearer
    )
    assert keep.status == 403


async def test_enrolment_needs_a_valid_enrolment_token(auth_client) -> None:
    client = await auth_client()
    for headers in ({}, {"X-Enrolment-Token": "x"}, {"X-Enrolment-Token": "a" * 43}):
        response = await client.post("/mfa/enrolment", headers=headers)
        assert 400 <= response.status < 500


async def test_guessing_codes_is_throttled_like_guessing_passwords(auth_client, signer) -> None:
    client = await auth_client(account_failures_limit=3)
    parent = await active_family(client, signer)
    secret, _ = await enrol_family(client, parent)
    for guess in ("111111", "222222", "333333"):
        wrong = await sign_in(client, parent["email"], GOOD_PASSWORD, totp_code=guess)
        assert wrong.status == 401
    blocked = await sign_in(client, parent["email"], GOOD_PASSWORD, totp_code=code_at(secret, 0))
    assert blocked.status == 429 and "Retry-After" in blocked.headers
