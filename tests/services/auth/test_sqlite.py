"""The dev profile's embedded database: the same rules hold on SQLite."""

from __future__ import annotations

import asyncio
import json

from services.auth.app import MIGRATIONS, create_app
from services.auth.config import AuthSettings
from services.kit.migrations import upgrade
from tests import support

from .conftest import (
    FAMILIES_OF,
    KEK,
    ensure_family,
    events,
    staff_headers,
    token_of,
    unique_email,
    url_of,
    wait_for_event,
)


async def test_invitation_single_use_sign_in_refresh_and_rotation_on_sqlite(
    aiohttp_client, service_client, gateway, signer, tmp_path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/auth.sqlite"
    await asyncio.to_thread(upgrade, MIGRATIONS, url)
    # Auth asks the families service, through the gateway, whether the family exists.
    families = await service_client("families")
    front = await gateway({"families": url_of(families)})
    settings = AuthSettings(
        gateway_url=url_of(front),
        database_url=url,
        redis_url=support.redis_url(),
        jwks_json=json.dumps(signer.jwks),
        key_encryption_key=KEK,
        profile="test",
        ip_attempts_limit=1000,
    )
    client = await aiohttp_client(create_app(settings))
    FAMILIES_OF[client] = families
    email = unique_email("sqlite")
    invited = await client.post(
        "/invitations",
        json={"email": email, "family_id": await ensure_family(client, "fam-sqlite")},
        headers=staff_headers(signer),
    )
    assert invited.status == 201
    account_id = (await invited.json())["account"]["id"]
    link = (await wait_for_event(client, "account.invited", account_id=account_id))["data"]["link"]
    attempts = await asyncio.gather(
        *(
            client.post(
                "/invitations/accept",
                json={"token": token_of(link), "password": f"sqlite passphrase {i}"},
            )
            for i in range(10)
        )
    )
    statuses = [r.status for r in attempts]
    assert sorted(statuses) == [201] + [410] * 9
    password = f"sqlite passphrase {statuses.index(201)}"
    signed_in = await client.post("/sessions", json={"email": email, "password": password})
    assert signed_in.status == 201
    session_token = (await signed_in.json())["session_token"]
    refreshed = await client.post("/sessions/refresh", headers={"X-Session-Token": session_token})
    assert refreshed.status == 200
    rotated = await client.post("/keys/rotate", headers=staff_headers(signer, "administrator"))
    assert rotated.status == 201
    assert len((await (await client.get("/.well-known/jwks.json")).json())["keys"]) == 2
    assert await events(client, "account.login_succeeded", account_id=account_id)
