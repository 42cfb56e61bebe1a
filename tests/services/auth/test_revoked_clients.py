"""A revoked API client's token is refused by every service at its very next call, not when
its 5-minute lifetime runs out; browser and staff tokens cost no Redis call for it; Redis
down lets client tokens through. Real auth, a real families service, real Redis."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from services.kit.app import REDIS
from services.kit.revoked_clients import KEY_PREFIX, revoked_key
from services.kit.testing import TestSigner

from .conftest import staff_headers

ADMIN = ("administrator",)
CHANGES = "/changes?since=2020-01-01T00:00:00Z"
DEAD_REDIS = "redis://127.0.0.1:1/0"


async def families_trusting(
    service_client: Any, auth: TestClient, signer: TestSigner, **settings: Any
) -> TestClient:
    """A families service that trusts auth's keys (and the test signer's)."""
    auth_keys = await (await auth.get("/.well-known/jwks.json")).json()
    jwks = json.dumps({"keys": [*auth_keys["keys"], *signer.jwks["keys"]]})
    return await service_client("families", jwks_json=jwks, **settings)


async def client_token(auth: TestClient, signer: TestSigner) -> tuple[str, dict[str, str]]:
    """A new API client allowed to read families, and the bearer header of its token."""
    created = await auth.post(
        "/api-clients",
        json={"name": "Logiciel finances", "scopes": ["families:read"]},
        headers=staff_headers(signer, *ADMIN),
    )
    assert created.status == 201, await created.text()
    client = await created.json()
    answer = await auth.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client["id"],
            "client_secret": client["client_secret"],
        },
    )
    assert answer.status == 200, await answer.text()
    token = (await answer.json())["access_token"]
    return client["id"], {"Authorization": f"Bearer {token}"}


async def test_a_revoked_clients_token_is_refused_at_once(
    auth_client, service_client, signer
) -> None:
    auth = await auth_client()
    families = await families_trusting(service_client, auth, signer)
    client_id, bearer = await client_token(auth, signer)
    assert (await families.get(CHANGES, headers=bearer)).status == 200

    revoked = await auth.delete(f"/api-clients/{client_id}", headers=staff_headers(signer, *ADMIN))
    assert revoked.status == 204
    ttl = await auth.app[REDIS].ttl(revoked_key(client_id))
    assert 0 < ttl <= 300  # the tokens' lifetime (AUTH_TOKEN_TTL_SECONDS)

    refused = await families.get(CHANGES, headers=bearer)
    assert refused.status == 401
    assert refused.content_type == "application/problem+json"
    problem = await refused.json()
    assert problem["type"].endswith("/unauthenticated")
    assert "revoked" in problem["detail"]
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    # Auth's own API refuses it too (the same kit middleware).
    assert (await auth.get("/accounts", headers=bearer)).status == 401


async def test_only_client_tokens_cost_a_redis_call(
    auth_client, service_client, signer, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth = await auth_client()
    families = await families_trusting(service_client, auth, signer)
    _client_id, bearer = await client_token(auth, signer)
    redis = families.app[REDIS]
    commands: list[str] = []
    send = redis.execute_command

    async def counted(*args: Any, **options: Any) -> Any:
        # Only the marks' keys: the service's outbox relay reads Redis in the background.
        if any(str(arg).startswith(KEY_PREFIX) for arg in args[1:]):
            commands.append(str(args[0]).upper())
        return await send(*args, **options)

    monkeypatch.setattr(redis, "execute_command", counted)
    staff = staff_headers(signer, "agent")
    parent = signer.headers(role="family", families=["f-1"])
    assert (await families.get(CHANGES, headers=staff)).status == 200
    assert (await families.get("/me/families", headers=parent)).status == 200
    assert commands == []
    assert (await families.get(CHANGES, headers=bearer)).status == 200
    assert commands == ["EXISTS"]


async def test_redis_down_lets_a_clients_token_through(auth_client, service_client, signer) -> None:
    auth = await auth_client()
    families = await families_trusting(service_client, auth, signer, redis_url=DEAD_REDIS)
    _client_id, bearer = await client_token(auth, signer)
    for _ in range(2):
        assert (await families.get(CHANGES, headers=bearer)).status == 200
