"""Staff operations on accounts, and who may call them."""

from __future__ import annotations

from .conftest import (
    active_family,
    ensure_family,
    events,
    invite,
    sign_in,
    staff_headers,
    unique_email,
)

ADMIN = ("administrator",)


async def test_staff_search_accounts_by_email_state_and_kind(auth_client, signer) -> None:
    client = await auth_client()
    marker = unique_email("searchme")
    invited, _ = await invite(client, signer, email=marker)
    found = await client.get(f"/accounts?q={marker[:18]}", headers=staff_headers(signer))
    assert found.status == 200
    body = await found.json()
    assert [a["id"] for a in body["items"]] == [invited["id"]] and body["total"] == 1
    assert body["items"][0]["state"] == "invited"
    assert "password" not in str(body)
    by_state = await client.get(
        "/accounts?state=invited&kind=family&limit=100", headers=staff_headers(signer)
    )
    assert all(a["state"] == "invited" for a in (await by_state.json())["items"])
    bad = await client.get("/accounts?state=whatever&limit=100000", headers=staff_headers(signer))
    assert bad.status == 422


async def test_parents_and_systems_cannot_use_staff_routes(auth_client, signer) -> None:
    client = await auth_client()
    parent = await active_family(client, signer)
    account_id = parent["account"]["id"]
    as_parent = {"Authorization": f"Bearer {parent['token']}"}
    as_system = signer.headers(role="service", scopes=["auth:read", "auth:write"])
    for headers in (as_parent, as_system, {}):
        # A system's auth:read reads family accounts (test_scopes_that_open_something.py).
        reads = (
            []
            if headers is as_system
            else [("GET", "/accounts"), ("GET", f"/accounts/{account_id}")]
        )
        for method, path in (
            *reads,
            ("POST", f"/accounts/{account_id}/disable"),
            ("POST", f"/accounts/{account_id}/unlock"),
            ("POST", "/api-clients"),
            ("POST", "/keys/rotate"),
        ):
            response = await client.request(method, path, headers=headers, json={})
            assert response.status in (401, 403), (method, path, headers, response.status)


async def test_agents_manage_families_but_only_administrators_manage_staff(
    auth_client, signer
) -> None:
    client = await auth_client()
    agent_invites_staff = await client.post(
        "/staff",
        json={"email": unique_email("x"), "roles": ["agent"]},
        headers=staff_headers(signer, "agent"),
    )
    assert agent_invites_staff.status == 403
    staff = await client.post(
        "/staff",
        json={"email": unique_email("colleague"), "roles": ["agent"]},
        headers=staff_headers(signer, *ADMIN),
    )
    staff_id = (await staff.json())["account"]["id"]
    by_agent = await client.post(
        f"/accounts/{staff_id}/disable", headers=staff_headers(signer, "agent")
    )
    assert by_agent.status == 403
    by_admin = await client.post(
        f"/accounts/{staff_id}/disable", headers=staff_headers(signer, *ADMIN)
    )
    assert by_admin.status == 200
    roles = await client.put(
        f"/accounts/{staff_id}/staff-roles",
        json={"roles": ["agent", "administrator"]},
        headers=staff_headers(signer, *ADMIN),
    )
    assert roles.status == 200 and (await roles.json())["staff_roles"] == ["administrator", "agent"]
    myself = await client.post(
        f"/accounts/{staff_id}/disable", headers=staff_headers(signer, *ADMIN, subject=staff_id)
    )
    assert myself.status == 403


async def test_removing_a_family_ends_the_sessions_of_that_login(auth_client, signer) -> None:
    client = await auth_client()
    parent = await active_family(client, signer, family_id="fam-leaving")
    account_id = parent["account"]["id"]
    removed = await client.delete(
        f"/accounts/{account_id}/memberships/fam-leaving", headers=staff_headers(signer)
    )
    assert removed.status == 200 and (await removed.json())["memberships"] == []
    refresh = await client.post(
        "/sessions/refresh", headers={"X-Session-Token": parent["session_token"]}
    )
    assert refresh.status == 401
    await ensure_family(client, "fam-new")
    added = await client.post(
        f"/accounts/{account_id}/memberships",
        json={"family_id": "fam-new", "rights": ["book"]},
        headers=staff_headers(signer),
    )
    assert added.status == 201
    assert await events(client, "account.membership_added", account_id=account_id)
    assert (await sign_in(client, parent["email"], parent["password"])).status == 201


async def test_the_openapi_document_describes_the_routes(auth_client) -> None:
    client = await auth_client()
    document = await (await client.get("/openapi.json")).json()
    for path in (
        "/sessions",
        "/sessions/refresh",
        "/invitations/accept",
        "/password-resets",
        "/oauth/token",
    ):
        assert path in document["paths"], path
