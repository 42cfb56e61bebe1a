"""Sessions for the gateway: sign in, refresh, timeouts, sign out, password change (promise 14)."""

from __future__ import annotations

from datetime import timedelta

import jwt
from sqlalchemy import select, update

from services.auth.models import Session
from services.kit.keys import DATABASE
from services.kit.outbox import utcnow

from .conftest import GOOD_PASSWORD, active_family, events, sign_in, staff_headers


def session_headers(session_token: str) -> dict[str, str]:
    return {"X-Session-Token": session_token}


async def test_sign_in_gives_a_new_session_each_time_and_stores_only_its_hash(
    auth_client, signer
) -> None:
    client = await auth_client()
    parent = await active_family(client, signer)
    first = await sign_in(client, parent["email"], GOOD_PASSWORD)
    second = await sign_in(client, parent["email"].upper(), GOOD_PASSWORD)
    assert first.status == second.status == 201
    a, b = await first.json(), await second.json()
    assert set(a) == {"session_token", "token", "expires_in"}
    assert a["session_token"] != b["session_token"]
    assert 0 < a["expires_in"] <= 300
    async with client.app[DATABASE].sessions() as session:
        hashes = set(await session.scalars(select(Session.token_hash)))
    assert a["session_token"] not in hashes
    claims = jwt.decode(a["token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == a["expires_in"]


async def test_refresh_gives_a_fresh_token_until_sign_out_revokes(auth_client, signer) -> None:
    client = await auth_client()
    parent = await active_family(client, signer)
    refreshed = await client.post(
        "/sessions/refresh", headers=session_headers(parent["session_token"])
    )
    assert refreshed.status == 200
    assert set(await refreshed.json()) == {"token", "expires_in"}

    out = await client.delete("/sessions/current", headers=session_headers(parent["session_token"]))
    assert out.status == 204
    after = await client.post("/sessions/refresh", headers=session_headers(parent["session_token"]))
    assert after.status == 401
    assert (await after.json())["type"].endswith("/session-expired")
    assert await events(client, "account.logged_out", account_id=parent["account"]["id"])


async def test_idle_and_absolute_timeouts_end_a_session(auth_client, signer) -> None:
    client = await auth_client()
    idle = await active_family(client, signer)
    old = await active_family(client, signer)
    async with client.app[DATABASE].transaction() as session:
        await session.execute(
            update(Session)
            .where(Session.account_id == idle["account"]["id"])
            .values(last_seen_at=utcnow() - timedelta(minutes=31))
        )
        await session.execute(
            update(Session)
            .where(Session.account_id == old["account"]["id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    for who in (idle, old):
        response = await client.post(
            "/sessions/refresh", headers=session_headers(who["session_token"])
        )
        assert response.status == 401


async def test_a_session_token_of_the_wrong_shape_is_just_401(auth_client) -> None:
    client = await auth_client()
    for value in ("", "abc", "x" * 43, "é" * 43, "a" * 4000):
        response = await client.post("/sessions/refresh", headers={"X-Session-Token": value})
        assert response.status == 401


async def test_password_change_revokes_other_sessions_and_keeps_this_one(
    auth_client, signer
) -> None:
    client = await auth_client()
    parent = await active_family(client, signer)
    other = await (await sign_in(client, parent["email"], GOOD_PASSWORD)).json()
    new_password = "un tout nouveau mot de passe"
    changed = await client.post(
        "/accounts/me/password",
        json={"current": GOOD_PASSWORD, "new": new_password},
        headers={
            "Authorization": f"Bearer {parent['token']}",
            **session_headers(parent["session_token"]),
        },
    )
    assert changed.status == 204, await changed.text()
    kept = await client.post("/sessions/refresh", headers=session_headers(parent["session_token"]))
    gone = await client.post("/sessions/refresh", headers=session_headers(other["session_token"]))
    assert (kept.status, gone.status) == (200, 401)
    assert (await sign_in(client, parent["email"], GOOD_PASSWORD)).status == 401
    assert (await sign_in(client, parent["email"], new_password)).status == 201
    changed_events = await events(
        client, "account.password_changed", account_id=parent["account"]["id"]
    )
    assert changed_events and "password" not in str(changed_events[0]["data"]).replace(
        "password_changed", ""
    )


async def test_password_change_needs_the_right_current_password(auth_client, signer) -> None:
    client = await auth_client()
    parent = await active_family(client, signer)
    wrong = await client.post(
        "/accounts/me/password",
        json={"current": "not the password at all", "new": "another good passphrase"},
        headers={"Authorization": f"Bearer {parent['token']}"},
    )
    assert wrong.status == 403
    assert (await wrong.json())["type"].endswith("/wrong-password")
    service = await client.post(
        "/accounts/me/password",
        json={"current": GOOD_PASSWORD, "new": "another good passphrase"},
        headers=signer.headers(role="service", scopes=["auth:write"]),
    )
    assert service.status == 403


async def test_disabled_accounts_lose_their_sessions_and_cannot_sign_in(
    auth_client, signer
) -> None:
    client = await auth_client()
    parent = await active_family(client, signer)
    account_id = parent["account"]["id"]
    disabled = await client.post(f"/accounts/{account_id}/disable", headers=staff_headers(signer))
    assert disabled.status == 200 and (await disabled.json())["state"] == "disabled"
    refresh = await client.post(
        "/sessions/refresh", headers=session_headers(parent["session_token"])
    )
    assert refresh.status == 401
    refused = await sign_in(client, parent["email"], GOOD_PASSWORD)
    assert refused.status == 401
    assert (await refused.json())["type"].endswith("/invalid-credentials")
    enabled = await client.post(f"/accounts/{account_id}/enable", headers=staff_headers(signer))
    assert (await enabled.json())["state"] == "active"
    assert (await sign_in(client, parent["email"], GOOD_PASSWORD)).status == 201


async def test_every_sign_in_and_failure_is_an_event_without_secrets(auth_client, signer) -> None:
    client = await auth_client()
    parent = await active_family(client, signer, family_id="fam-journal")
    await sign_in(client, parent["email"], "wrong password, sorry")
    failed = await events(client, "account.login_failed", account_id=parent["account"]["id"])
    assert failed and failed[-1]["family_id"] == "fam-journal"
    blob = str(failed[-1])
    assert "wrong password" not in blob and parent["email"] not in blob
    succeeded = await events(client, "account.login_succeeded", account_id=parent["account"]["id"])
    assert succeeded[-1]["family_id"] == "fam-journal"
    assert parent["session_token"] not in str(succeeded[-1])
