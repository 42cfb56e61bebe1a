"""Every scope an administrator can grant opens something (docs/integration.md, « Scopes »).

`auth:read` reads the family accounts the way staff list them; `documents:write`,
`notifications:read` and `notifications:write`, which no operation checks, are refused when
a client is made — in the API (422), on the command line and on the « Clients API » page —
and a client made before keeps them listed but gets no token carrying them.
"""

from __future__ import annotations

import re
import uuid

import aiohttp
import jwt

from portail.cli import main
from services.auth.crypto import digest
from services.auth.models import ApiClient
from services.auth.schemas import SERVICE_SCOPES
from services.kit.keys import DATABASE
from services.kit.outbox import utcnow
from services.kit.typography import french_spacing
from tests.browser import CHROMIUM, PHONE, SCREENSHOTS, accessibility_violations, chromium
from tests.gateway.conftest import same_origin

from .conftest import active_family, staff_headers
from .test_api_client_pages import signed_in_staff
from .test_commands import auth_env  # noqa: F401 (its fixture)
from .test_pages import body, csrf_of, portal

UNOPENED = ("documents:write", "notifications:read", "notifications:write")


async def test_the_api_refuses_a_scope_that_opens_nothing(auth_client, signer) -> None:
    client = await auth_client()
    admin = staff_headers(signer, "administrator")
    for scope in UNOPENED:
        refused = await client.post(
            "/api-clients",
            json={"name": "Logiciel", "scopes": ["bookings:read", scope]},
            headers=admin,
        )
        assert refused.status == 422
        assert refused.content_type == "application/problem+json"
        problem = await refused.json()
        assert problem["type"].endswith("/validation-failed")
        [error] = problem["errors"]
        assert error["field"] == "scopes"
        assert f"'{scope}' opens no operation: it cannot be granted." in error["message"]
    listed = await (await client.get("/api-clients", headers=admin)).json()
    assert not [c for c in listed if set(c["scopes"]) & set(UNOPENED)]
    assert not set(UNOPENED) & SERVICE_SCOPES
    granted = await client.post(
        "/api-clients",
        json={"name": "Logiciel", "scopes": sorted(SERVICE_SCOPES)},
        headers=admin,
    )
    assert granted.status == 201, await granted.text()


async def test_an_older_client_gets_no_token_carrying_a_scope_that_opens_nothing(
    auth_client,
) -> None:
    client = await auth_client()
    client_id, secret = str(uuid.uuid4()), "un secret de client assez long pour ce test"
    async with client.app[DATABASE].transaction() as session:
        session.add(
            ApiClient(
                id=client_id,
                name="Logiciel d'avant",
                secret_hash=digest(secret),
                scopes=["families:read", "notifications:write"],
                created_at=utcnow(),
                created_by="staff-test",
            )
        )
    basic = {"Authorization": aiohttp.encode_basic_auth(client_id, secret)}
    answer = await client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers=basic
    )
    assert answer.status == 200, await answer.text()
    token = await answer.json()
    assert token["scope"] == "families:read"
    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert claims["scope"] == "families:read"
    asked = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "notifications:write"},
        headers=basic,
    )
    assert asked.status == 400 and (await asked.json())["error"] == "invalid_scope"


async def test_an_older_client_with_documents_write_keeps_reading_documents(auth_client) -> None:
    """documents:write included documents:read (a write scope gives its service's read): the
    client keeps that read when its write stops being granted, not a token of no scope."""
    client = await auth_client()
    client_id, secret = str(uuid.uuid4()), "un autre secret de client assez long pour ce test"
    async with client.app[DATABASE].transaction() as session:
        session.add(
            ApiClient(
                id=client_id,
                name="Logiciel de la crèche",
                secret_hash=digest(secret),
                scopes=["documents:write", "notifications:read"],
                created_at=utcnow(),
                created_by="staff-test",
            )
        )
    basic = {"Authorization": aiohttp.encode_basic_auth(client_id, secret)}
    answer = await client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers=basic
    )
    assert answer.status == 200, await answer.text()
    token = await answer.json()
    assert token["scope"] == "documents:read"
    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert claims["scope"] == "documents:read"
    for scope, status in (("documents:read", 200), ("documents:write", 400)):
        asked = await client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "scope": scope},
            headers=basic,
        )
        assert asked.status == status, scope


async def test_auth_read_reads_family_accounts_as_staff_list_them(auth_client, signer) -> None:
    client = await auth_client()
    parent = await active_family(client, signer)
    family_account = parent["account"]
    family_id = family_account["memberships"][0]["family_id"]
    staff = await client.post(
        "/staff",
        json={"email": f"agent-{uuid.uuid4().hex[:6]}@example.org", "roles": ["agent"]},
        headers=staff_headers(signer, "administrator"),
    )
    staff_id = (await staff.json())["account"]["id"]

    for scopes in (["auth:read"], ["auth:write"]):  # what a system may change, it may read
        system = signer.headers(role="service", subject="recensement", scopes=scopes)
        listed = await client.get(f"/accounts?family_id={family_id}", headers=system)
        assert listed.status == 200, await listed.text()
        items = (await listed.json())["items"]
        assert [a["id"] for a in items] == [family_account["id"]]
        assert items[0]["state"] == "active" and "recent_failures" in items[0]
        everyone = await (await client.get("/accounts?limit=100", headers=system)).json()
        assert {a["kind"] for a in everyone["items"]} == {"family"}
        assert (await client.get("/accounts?kind=staff", headers=system)).status == 403
        one = await client.get(f"/accounts/{family_account['id']}", headers=system)
        assert one.status == 200 and (await one.json())["id"] == family_account["id"]
        assert (await client.get(f"/accounts/{staff_id}", headers=system)).status == 404

    other = signer.headers(role="service", scopes=["bookings:read", "families:write"])
    assert (await client.get("/accounts", headers=other)).status == 403
    assert (await client.get(f"/accounts/{family_account['id']}", headers=other)).status == 403
    # Staff still see every account.
    staff_view = await client.get(f"/accounts/{staff_id}", headers=staff_headers(signer))
    assert staff_view.status == 200
    # A parent is no system: 403 on the list and on their own account's id.
    own = {"Authorization": f"Bearer {parent['token']}"}
    assert (await client.get("/accounts", headers=own)).status == 403
    assert (await client.get(f"/accounts/{family_account['id']}", headers=own)).status == 403
    # auth:read reads, nothing more: resending an invitation needs auth:write.
    reader = signer.headers(role="service", subject="recensement", scopes=["auth:read"])
    resent = await client.post(f"/accounts/{family_account['id']}/invitation", headers=reader)
    assert resent.status == 403


async def test_a_system_cannot_tell_a_staff_account_from_no_account(auth_client, signer) -> None:
    """What auth:read promises (a staff account's id is a 404 for a system) holds for the
    routes auth:write opens on one account too: nothing tells a staff id from an unknown one."""
    client = await auth_client()
    parent = await active_family(client, signer)
    family_id = parent["account"]["memberships"][0]["family_id"]
    agent = f"agent-{uuid.uuid4().hex[:6]}@example.org"
    staff = await client.post(
        "/staff",
        json={"email": agent, "roles": ["agent"]},
        headers=staff_headers(signer, "administrator"),
    )
    staff_id = (await staff.json())["account"]["id"]
    system = signer.headers(
        role="service", subject="recensement", scopes=["auth:write", "families:read"]
    )
    for account_id in (staff_id, str(uuid.uuid4()), "pas-un-uuid", "x" * 5000):
        for method, path, sent in (
            ("GET", f"/accounts/{account_id}", None),
            ("POST", f"/accounts/{account_id}/invitation", None),
            ("POST", f"/accounts/{account_id}/memberships", {"family_id": family_id}),
            ("DELETE", f"/accounts/{account_id}/memberships/{family_id}", None),
        ):
            answer = await client.request(method, path, json=sent, headers=system)
            assert answer.status == 404, (method, path[:60], answer.status)
            assert answer.content_type == "application/problem+json"
            assert agent not in await answer.text()
    listed = await client.get("/accounts", params={"q": agent}, headers=system)
    assert listed.status == 200 and (await listed.json()) == {"items": [], "total": 0}
    # The staff member's account is untouched: no family was added to it.
    staff_view = await client.get(f"/accounts/{staff_id}", headers=staff_headers(signer))
    assert (await staff_view.json())["memberships"] == []


def test_the_command_line_refuses_a_scope_that_opens_nothing(auth_env, capsys) -> None:  # noqa: F811
    argv = ["create-api-client", "Logiciel", "--scope", "bookings:read", "--scope"]
    assert main([*argv, "notifications:read"]) == 1
    said = capsys.readouterr().err
    assert "refusé : scopes: " in said
    assert "'notifications:read' opens no operation: it cannot be granted." in said
    assert main([*argv, "everything"]) == 1
    assert "'everything' is no scope of the portal." in capsys.readouterr().err


async def test_the_page_offers_and_grants_only_scopes_that_open_something(
    gateway, auth_client, signer
) -> None:
    client, auth = await portal(gateway, auth_client)
    await signed_in_staff(client, auth, signer, "administrator")
    html = await body(await client.get("/agents/clients-api"))
    offered = set(re.findall(r'name="scopes" value="([^"]+)"', html))
    assert offered == SERVICE_SCOPES
    assert "Notifications et messages" not in html

    forged = await client.post(
        "/agents/clients-api",
        data={
            "csrf_token": csrf_of(html),
            "name": "Logiciel des messages",
            "scopes": ["bookings:read", "notifications:write"],
        },
        headers=same_origin(client),
    )
    page = await body(forged)
    assert forged.status == 422, page
    assert (
        french_spacing(
            "Le droit « notifications:write » n'ouvre aucune opération : il ne peut pas être donné."
        )
        in page
    )
    assert 'value="bookings:read" checked' in page  # what was ticked stays ticked
    await the_refusal_reads_well(client)
    listed = await body(await client.get("/agents/clients-api"))
    assert "Logiciel des messages" not in listed

    english = await client.post(
        "/agents/clients-api?lang=en",
        data={"csrf_token": csrf_of(html), "name": "X", "scopes": ["documents:write"]},
        headers=same_origin(client),
    )
    assert "The right “documents:write” opens no operation: it cannot be given." in await body(
        english
    )


async def the_refusal_reads_well(client) -> None:  # type: ignore[no-untyped-def]
    """In Chromium, on a phone and a desktop: the form offers the rights that open something
    and a forged one is refused on the page, which fits and passes axe's WCAG 2.1 AA audit.
    Screenshots: /tmp/api-clients-scopes-{phone,desktop}.png."""
    if not CHROMIUM.exists():
        return
    base = str(client.make_url("")).rstrip("/")
    cookies = [{"name": c.key, "value": c.value, "url": base} for c in client.session.cookie_jar]
    async with chromium() as browser:
        for name, viewport in (("phone", PHONE), ("desktop", {"width": 1280, "height": 900})):
            context = await browser.new_context(viewport=viewport, locale="fr-FR")
            await context.add_cookies(cookies)  # type: ignore[arg-type]
            page = await context.new_page()
            await page.goto(f"{base}/agents/clients-api")
            await page.get_by_label("Nom du système").fill("Logiciel des messages")
            await page.locator("input[value='bookings:read']").check()
            # A page of yesterday offered notifications:write: the form sends it anyway.
            await page.evaluate(
                """() => { const box = document.querySelector("input[value='bookings:read']");
                  const old = box.cloneNode(); old.value = 'notifications:write';
                  box.parentNode.appendChild(old); }"""
            )
            await page.get_by_role("button", name="Créer le client").click()
            await page.wait_for_load_state()
            assert "n'ouvre aucune opération" in await page.get_by_role("alert").inner_text()
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"], width
            assert await accessibility_violations(page) == []
            await page.screenshot(
                path=str(SCREENSHOTS / f"api-clients-scopes-{name}.png"), full_page=True
            )
            await context.close()
