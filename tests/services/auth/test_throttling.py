"""Online guessing: per-account and per-IP limits, 429 with Retry-After, soft lock (promise 12)."""

from __future__ import annotations

from redis.asyncio import Redis

from services.auth.config import AuthSettings
from services.auth.context import AUTH

from .conftest import GOOD_PASSWORD, active_family, sign_in, staff_headers, token_of, wait_for_event


def from_ip(ip: str, *earlier: str) -> dict[str, str]:
    """As the gateway forwards it: whatever the client wrote, then the address it saw."""
    return {"X-Forwarded-For": ", ".join([*earlier, ip])}


async def test_the_account_curve_under_default_settings_caps_checks_per_hour(
    auth_client, signer
) -> None:
    limit = AuthSettings.model_fields["account_failures_limit"].default
    assert limit <= 100
    client = await auth_client(account_failures_limit=limit)
    parent = await active_family(client, signer)
    statuses = []
    for attempt in range(limit + 10):
        # A different address every time: only the per-account limit can stop this.
        response = await client.post(
            "/sessions",
            json={"email": parent["email"], "password": f"guess number {attempt}"},
            headers=from_ip(f"198.51.100.{attempt % 250}", f"10.0.{attempt}.1"),
        )
        statuses.append(response.status)
        if response.status == 429:
            retry_after = int(response.headers["Retry-After"])
            assert 1 <= retry_after <= 3600
            assert (await response.json())["type"].endswith("/too-many-requests")
    assert statuses == [401] * limit + [429] * 10


async def test_the_lock_is_soft_staff_unlock_and_a_reset_lift_it(auth_client, signer) -> None:
    client = await auth_client(account_failures_limit=3)
    parent = await active_family(client, signer)
    for _ in range(3):
        assert (await sign_in(client, parent["email"], "wrong guess here")).status == 401
    assert (await sign_in(client, parent["email"], GOOD_PASSWORD)).status == 429
    seen = await client.get(f"/accounts/{parent['account']['id']}", headers=staff_headers(signer))
    assert (await seen.json())["throttled"] is True
    assert (await seen.json())["recent_failures"] == 3

    unlocked = await client.post(
        f"/accounts/{parent['account']['id']}/unlock", headers=staff_headers(signer)
    )
    assert unlocked.status == 200
    assert (await unlocked.json())["throttled"] is False
    assert (await sign_in(client, parent["email"], GOOD_PASSWORD)).status == 201

    for _ in range(3):
        await sign_in(client, parent["email"], "wrong guess again")
    assert (await sign_in(client, parent["email"], GOOD_PASSWORD)).status == 429
    # The parent is never stuck: the forgotten-password link still works and lifts the lock.
    await client.post("/password-resets", json={"email": parent["email"]})
    event = await wait_for_event(
        client, "account.password_reset_requested", account_id=parent["account"]["id"]
    )
    new_password = "after the attack passphrase"
    done = await client.post(
        "/password-resets/confirm",
        json={"token": token_of(event["data"]["link"]), "password": new_password},
    )
    assert done.status == 204
    assert (await sign_in(client, parent["email"], new_password)).status == 201


async def test_successful_sign_ins_do_not_count_against_the_account(auth_client, signer) -> None:
    client = await auth_client(account_failures_limit=2)
    parent = await active_family(client, signer)
    for _ in range(5):
        assert (await sign_in(client, parent["email"], GOOD_PASSWORD)).status == 201


async def test_the_ip_curve_uses_only_the_last_forwarded_hop(auth_client, signer) -> None:
    client = await auth_client(ip_attempts_limit=10, ip_attempts_window_seconds=60)
    statuses = []
    for attempt in range(14):
        # The client forges earlier hops; the gateway's last hop is what counts.
        response = await client.post(
            "/sessions",
            json={"email": f"spray{attempt}@example.org", "password": "Summer2024!!"},
            headers=from_ip("203.0.113.9", f"192.0.2.{attempt}"),
        )
        statuses.append(response.status)
    assert statuses == [401] * 10 + [429] * 4
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    other = await client.post(
        "/sessions",
        json={"email": "spray@example.org", "password": "Summer2024!!"},
        headers=from_ip("203.0.113.10"),
    )
    assert other.status == 401


async def test_without_redis_sign_in_fails_closed_with_503(auth_client, signer) -> None:
    client = await auth_client()
    parent = await active_family(client, signer)

    auth = client.app[AUTH]
    working = auth.throttle.redis
    auth.throttle.redis = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    try:
        response = await sign_in(client, parent["email"], GOOD_PASSWORD)
    finally:
        await auth.throttle.redis.aclose()
        auth.throttle.redis = working
    assert response.status == 503
    assert response.headers["Retry-After"] == "5"


async def test_only_an_administrator_lifts_the_throttle_of_a_staff_account(
    auth_client, signer
) -> None:
    # An agent who could clear an administrator's bucket again and again could guess that
    # password without limit: unlocking a staff account is managing it, an administrator's.
    client = await auth_client(account_failures_limit=3)
    invited = await client.post(
        "/staff",
        json={"email": "throttled.admin@example.org", "roles": ["administrator"]},
        headers=staff_headers(signer, "administrator"),
    )
    admin = (await invited.json())["account"]
    for _ in range(3):
        await sign_in(client, admin["email"], "wrong guess here")

    by_agent = await client.post(
        f"/accounts/{admin['id']}/unlock", headers=staff_headers(signer, "agent")
    )
    assert by_agent.status == 403, await by_agent.text()
    seen = await client.get(f"/accounts/{admin['id']}", headers=staff_headers(signer))
    assert (await seen.json())["throttled"] is True

    by_admin = await client.post(
        f"/accounts/{admin['id']}/unlock", headers=staff_headers(signer, "administrator")
    )
    assert by_admin.status == 200
    assert (await by_admin.json())["throttled"] is False


async def test_guessing_the_password_to_turn_totp_off_counts_like_sign_in(
    auth_client, signer
) -> None:
    # A session left open on a shared computer must not become an unmetered password oracle:
    # the check behind « Désactiver » draws on the account's guessing bucket, as sign-in does.
    client = await auth_client(account_failures_limit=3)
    parent = await active_family(client, signer)
    bearer = {"Authorization": f"Bearer {parent['token']}"}
    for attempt in range(3):
        wrong = await client.post(
            "/accounts/me/totp/disable", json={"password": f"guess {attempt}"}, headers=bearer
        )
        assert wrong.status == 403
    over = await client.post(
        "/accounts/me/totp/disable", json={"password": GOOD_PASSWORD}, headers=bearer
    )
    assert over.status == 429, await over.text()
    assert 1 <= int(over.headers["Retry-After"]) <= 3600
    assert (await sign_in(client, parent["email"], GOOD_PASSWORD)).status == 429
