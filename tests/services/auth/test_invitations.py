"""Invitations and first sign-in: from the event's link to a session (promise 10)."""

from __future__ import annotations

import asyncio
import uuid

import jwt
from sqlalchemy import func, select

from services.auth.context import AUTH
from services.auth.models import Account, OneTimeToken
from services.kit.keys import DATABASE

from .conftest import (
    GOOD_PASSWORD,
    PUBLIC_BASE_URL,
    ensure_family,
    events,
    invite,
    staff_headers,
    token_of,
    unique_email,
    wait_for_event,
)


async def test_invitation_event_carries_a_link_from_the_public_url_never_the_host(
    auth_client, signer
) -> None:
    client = await auth_client()
    email = unique_email()
    await ensure_family(client, "fam-1")
    response = await client.post(
        "/invitations",
        json={"email": email, "family_id": "fam-1"},
        headers={**staff_headers(signer), "Host": "evil.example.com", "X-Forwarded-Host": "evil"},
    )
    assert response.status == 201
    body = await response.json()
    assert body["account"]["state"] == "invited"
    assert "link" not in str(body)  # the link travels only in the e-mail
    event = await wait_for_event(client, "account.invited", account_id=body["account"]["id"])
    link = event["data"]["link"]
    assert link.startswith(f"{PUBLIC_BASE_URL}/premiere-connexion?token=")
    assert event["family_id"] == "fam-1"
    assert event["data"]["email"] == email
    # >= 128 bits of randomness, and only its hash is stored.
    token = token_of(link)
    assert len(token) >= 43
    async with client.app[DATABASE].sessions() as session:
        stored = await session.scalar(
            select(OneTimeToken.token_hash).where(OneTimeToken.account_id == body["account"]["id"])
        )
    assert stored is not None and token not in stored and len(stored) == 64


async def test_first_sign_in_from_the_link_gives_a_session_with_the_memberships(
    auth_client, signer
) -> None:
    client = await auth_client()
    account, link = await invite(client, signer, family_id="fam-first", rights=["book"])
    checked = await client.post("/invitations/check", json={"token": token_of(link)})
    assert checked.status == 200
    assert (await checked.json())["email_hint"].endswith("@example.org")

    accepted = await client.post(
        "/invitations/accept", json={"token": token_of(link), "password": GOOD_PASSWORD}
    )
    assert accepted.status == 201, await accepted.text()
    body = await accepted.json()
    assert body["mfa_enrolment_required"] is False
    claims = jwt.decode(body["session"]["token"], options={"verify_signature": False})
    assert claims["sub"] == account["id"]
    assert claims["role"] == "family"
    assert claims["fam"] == [{"id": "fam-first", "rights": ["book"]}]

    me = await client.get(
        "/accounts/me", headers={"Authorization": f"Bearer {body['session']['token']}"}
    )
    assert me.status == 200
    assert (await me.json())["state"] == "active"
    assert await events(client, "account.activated", account_id=account["id"])
    assert await events(client, "account.login_succeeded", account_id=account["id"])


async def test_a_used_link_answers_a_stable_type_and_can_ask_for_a_new_one(
    auth_client, signer
) -> None:
    client = await auth_client()
    _, link = await invite(client, signer)
    token = token_of(link)
    first = await client.post(
        "/invitations/accept", json={"token": token, "password": GOOD_PASSWORD}
    )
    assert first.status == 201
    again = await client.post(
        "/invitations/accept", json={"token": token, "password": GOOD_PASSWORD}
    )
    assert again.status == 410
    assert (await again.json())["type"].endswith("/token-used")
    check = await client.post("/invitations/check", json={"token": token})
    assert (await check.json())["type"].endswith("/token-used")


async def test_an_expired_link_says_so_and_renewing_it_sends_a_new_one(auth_client, signer) -> None:
    client = await auth_client()
    account, link = await invite(client, signer)
    async with client.app[DATABASE].transaction() as session:
        row = await session.scalar(
            select(OneTimeToken).where(OneTimeToken.account_id == account["id"])
        )
        row.expires_at = row.created_at
    expired = await client.post(
        "/invitations/accept", json={"token": token_of(link), "password": GOOD_PASSWORD}
    )
    assert expired.status == 410
    assert (await expired.json())["type"].endswith("/token-expired")

    renewed = await client.post("/invitations/renew", json={"token": token_of(link)})
    assert renewed.status == 202
    unknown = await client.post("/invitations/renew", json={"token": "x" * 43})
    assert await unknown.json() == await renewed.json()

    for _ in range(100):
        sent = await events(client, "account.invited", account_id=account["id"])
        if len(sent) == 2:
            break
        await asyncio.sleep(0.05)
    assert len(sent) == 2 and sent[-1]["data"]["resent"] is True
    new_link = sent[-1]["data"]["link"]
    assert new_link != link
    ok = await client.post(
        "/invitations/accept", json={"token": token_of(new_link), "password": GOOD_PASSWORD}
    )
    assert ok.status == 201


async def test_staff_resend_invalidates_the_previous_link(auth_client, signer) -> None:
    client = await auth_client()
    account, link = await invite(client, signer)
    resent = await client.post(
        f"/accounts/{account['id']}/invitation", headers=staff_headers(signer)
    )
    assert resent.status == 200
    old = await client.post(
        "/invitations/accept", json={"token": token_of(link), "password": GOOD_PASSWORD}
    )
    assert old.status == 410
    assert len(await events(client, "account.invited", account_id=account["id"])) == 2


async def test_a_municipal_system_with_auth_write_may_invite_and_a_parent_may_not(
    auth_client, signer
) -> None:
    client = await auth_client()
    body = {"email": unique_email(), "family_id": await ensure_family(client, "fam-x")}
    # The family is checked with the system's own token: it must be able to read families.
    blind = await client.post(
        "/invitations", json=body, headers=signer.headers(role="service", scopes=["auth:write"])
    )
    assert blind.status == 403
    assert (await blind.json())["type"].endswith("/family-not-readable")
    system = await client.post(
        "/invitations",
        json=body,
        headers=signer.headers(role="service", scopes=["auth:write", "families:read"]),
    )
    assert system.status == 201
    reader = await client.post(
        "/invitations",
        json={**body, "email": unique_email()},
        headers=signer.headers(role="service", scopes=["auth:read"]),
    )
    parent = await client.post(
        "/invitations",
        json={**body, "email": unique_email()},
        headers=signer.headers(families=["fam-x"]),
    )
    anonymous = await client.post("/invitations", json={**body, "email": unique_email()})
    assert (reader.status, parent.status, anonymous.status) == (403, 403, 401)


async def test_one_login_for_two_families_and_two_logins_for_one_family(
    auth_client, signer
) -> None:
    client = await auth_client()
    email = unique_email()
    first, link = await invite(client, signer, email=email, family_id="household-a")
    await ensure_family(client, "household-b")
    second = await client.post(
        "/invitations",
        json={"email": email.upper(), "family_id": "household-b", "rights": ["invoices"]},
        headers=staff_headers(signer),
    )
    assert second.status == 200  # the same login gained a family
    other_parent, _ = await invite(client, signer, family_id="household-a")
    accepted = await client.post(
        "/invitations/accept", json={"token": token_of(link), "password": GOOD_PASSWORD}
    )
    claims = jwt.decode(
        (await accepted.json())["session"]["token"], options={"verify_signature": False}
    )
    assert {m["id"] for m in claims["fam"]} == {"household-a", "household-b"}
    listed = await client.get("/accounts?family_id=household-a", headers=staff_headers(signer))
    ids = {a["id"] for a in (await listed.json())["items"]}
    assert {first["id"], other_parent["id"]} <= ids
    duplicate = await client.post(
        "/invitations",
        json={"email": email, "family_id": "household-a"},
        headers=staff_headers(signer),
    )
    assert duplicate.status == 409


async def test_bad_input_is_a_problem_never_a_500_and_nothing_half_created(
    auth_client, signer
) -> None:
    client = await auth_client()
    async with client.app[DATABASE].sessions() as session:
        before = await session.scalar(select(func.count()).select_from(Account))
    cases = [
        ("/invitations", {"email": "not-an-email", "family_id": "f"}),
        ("/invitations", {"email": "a@" + "b" * 300 + ".org", "family_id": "f"}),
        ("/invitations", {"email": unique_email(), "family_id": "x" * 1000}),
        ("/invitations", {"email": unique_email(), "family_id": "f", "rights": ["admin"]}),
        ("/invitations", {"email": unique_email(), "family_id": ""}),
        ("/invitations", {"email": unique_email(), "family_id": "f", "extra": 1}),
        ("/invitations/accept", {"token": "short", "password": GOOD_PASSWORD}),
        ("/invitations/accept", {"token": "é" * 43, "password": GOOD_PASSWORD}),
        ("/invitations/accept", {"token": "a" * 5000, "password": GOOD_PASSWORD}),
        ("/invitations/accept", {"token": "a" * 43, "password": "x" * 100_000}),
        ("/invitations/check", {"token": None}),
        ("/sessions", {"email": "@", "password": "x"}),
        ("/sessions", {"email": unique_email(), "password": ""}),
        ("/password-resets", {"email": "nope"}),
        ("/password-resets/confirm", {"token": "../../etc", "password": GOOD_PASSWORD}),
    ]
    for path, body in cases:
        response = await client.post(path, json=body, headers=staff_headers(signer))
        assert 400 <= response.status < 500, (path, body, response.status)
        assert response.headers["Content-Type"].startswith("application/problem+json")
    huge = await client.post(
        "/sessions",
        data=b'{"email": "' + b"a" * 200_000 + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert huge.status == 413
    not_json = await client.post(
        "/sessions", data=b"email=a", headers={"Content-Type": "text/plain"}
    )
    assert not_json.status == 415
    async with client.app[DATABASE].sessions() as session:
        after = await session.scalar(select(func.count()).select_from(Account))
    assert after == before


async def test_a_weak_password_does_not_burn_the_invitation(auth_client, signer) -> None:
    client = await auth_client()
    email = unique_email("dupont")
    _, link = await invite(client, signer, email=email)
    for weak in ("court", "motdepasse2024!", "azertyuiop123", email.split("@")[0] + "-et-plus"):
        refused = await client.post(
            "/invitations/accept", json={"token": token_of(link), "password": weak}
        )
        assert refused.status == 422, weak
        assert (await refused.json())["type"].endswith("/weak-password")
    ok = await client.post(
        "/invitations/accept", json={"token": token_of(link), "password": GOOD_PASSWORD}
    )
    assert ok.status == 201


async def test_unknown_account_ids_answer_404(auth_client, signer) -> None:
    client = await auth_client()
    response = await client.get(f"/accounts/{uuid.uuid4()}", headers=staff_headers(signer))
    assert response.status == 404


async def test_an_old_link_cannot_flood_the_address_with_new_invitations(
    auth_client, signer
) -> None:
    client = await auth_client(reset_requests_per_email_per_hour=2)
    account, link = await invite(client, signer)
    for _ in range(5):
        response = await client.post("/invitations/renew", json={"token": token_of(link)})
        assert response.status == 202
        await client.app[AUTH].drain()
    sent = await events(client, "account.invited", account_id=account["id"])
    assert len(sent) == 1 + 2  # the invitation, then two renewals within the hour
