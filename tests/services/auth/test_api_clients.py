"""API clients of municipal systems: secret shown once, client credentials, scopes, revocation."""

from __future__ import annotations

import base64
import json

import jwt
from sqlalchemy import select

from services.auth.models import ApiClient
from services.kit.keys import DATABASE

from .conftest import staff_headers

ADMIN = ("administrator",)


async def create_client(client, signer, scopes=("families:read", "bookings:read")):  # type: ignore[no-untyped-def]
    response = await client.post(
        "/api-clients",
        json={"name": "Logiciel finances", "scopes": list(scopes)},
        headers=staff_headers(signer, *ADMIN),
    )
    assert response.status == 201, await response.text()
    return await response.json()


async def test_an_administrator_creates_a_client_whose_secret_is_shown_once(
    auth_client, signer
) -> None:
    client = await auth_client()
    created = await create_client(client, signer)
    assert len(created["client_secret"]) >= 43
    async with client.app[DATABASE].sessions() as session:
        row = await session.get(ApiClient, created["id"])
    assert row.secret_hash != created["client_secret"]
    listed = await client.get("/api-clients", headers=staff_headers(signer, *ADMIN))
    assert created["client_secret"] not in await listed.text()
    agent = await client.post(
        "/api-clients",
        json={"name": "x", "scopes": ["families:read"]},
        headers=staff_headers(signer, "agent"),
    )
    assert agent.status == 403
    unknown_scope = await client.post(
        "/api-clients",
        json={"name": "x", "scopes": ["root:all"]},
        headers=staff_headers(signer, *ADMIN),
    )
    assert unknown_scope.status == 422


async def test_client_credentials_by_basic_or_post_give_a_scoped_service_token(
    auth_client, signer
) -> None:
    client = await auth_client()
    created = await create_client(client, signer)
    basic = base64.b64encode(f"{created['id']}:{created['client_secret']}".encode()).decode()
    by_basic = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "families:read"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert by_basic.status == 200, await by_basic.text()
    body = await by_basic.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 300
    assert by_basic.headers["Cache-Control"] == "no-store"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["role"] == "service" and claims["scope"] == "families:read"

    by_post = await client.post(
        "/oauth/token",
        data=json.dumps(
            {
                "grant_type": "client_credentials",
                "client_id": created["id"],
                "client_secret": created["client_secret"],
            }
        ),
        headers={"Content-Type": "application/json"},
    )
    assert by_post.status == 200
    all_scopes = jwt.decode(
        (await by_post.json())["access_token"], options={"verify_signature": False}
    )
    assert all_scopes["scope"] == "bookings:read families:read"

    # The token works on our own API like any service token: auth:read is not granted here.
    me = await client.get("/accounts", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status == 403


async def test_wrong_secrets_unknown_clients_and_extra_scopes_are_refused(
    auth_client, signer
) -> None:
    client = await auth_client()
    created = await create_client(client, signer)
    cases = [
        {"grant_type": "client_credentials", "client_id": created["id"], "client_secret": "wrong"},
        {"grant_type": "client_credentials", "client_id": "not-a-uuid", "client_secret": "x"},
        {"grant_type": "client_credentials"},
    ]
    for form in cases:
        response = await client.post("/oauth/token", data=form)
        assert response.status == 401, form
        assert (await response.json())["error"] == "invalid_client"
    too_much = await client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": created["id"],
            "client_secret": created["client_secret"],
            "scope": "billing:write",
        },
    )
    assert too_much.status == 400 and (await too_much.json())["error"] == "invalid_scope"
    password_grant = await client.post("/oauth/token", data={"grant_type": "password"})
    assert (await password_grant.json())["error"] == "unsupported_grant_type"
    bad_basic = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic %%%"},
    )
    assert bad_basic.status == 401


async def test_a_revoked_client_gets_no_more_tokens(auth_client, signer) -> None:
    client = await auth_client()
    created = await create_client(client, signer)
    form = {
        "grant_type": "client_credentials",
        "client_id": created["id"],
        "client_secret": created["client_secret"],
    }
    assert (await client.post("/oauth/token", data=form)).status == 200
    revoked = await client.delete(
        f"/api-clients/{created['id']}", headers=staff_headers(signer, *ADMIN)
    )
    assert revoked.status == 204
    assert (await client.post("/oauth/token", data=form)).status == 401
    async with client.app[DATABASE].sessions() as session:
        assert await session.scalar(
            select(ApiClient.revoked_at).where(ApiClient.id == created["id"])
        )


async def test_a_client_refused_over_basic_is_told_the_scheme(auth_client, signer) -> None:
    """RFC 6749 §5.2: a 401 to a client that sent Authorization carries WWW-Authenticate."""
    client = await auth_client()
    created = await create_client(client, signer)
    wrong = base64.b64encode(f"{created['id']}:wrong".encode()).decode()
    for header in (f"Basic {wrong}", "Basic !!!"):
        response = await client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": header},
        )
        assert response.status == 401, header
        assert response.headers["Content-Type"].startswith("application/problem+json")
        assert response.headers.get("WWW-Authenticate", "").startswith("Basic "), header
        assert (await response.json())["error"] == "invalid_client"


async def test_a_token_form_that_is_not_utf8_is_a_400(auth_client) -> None:
    client = await auth_client()
    response = await client.post(
        "/oauth/token",
        data=b"grant_type=\xff\xfe",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 400, await response.text()
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert (await response.json())["error"] == "invalid_request"
