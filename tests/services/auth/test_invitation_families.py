"""An invitation only to a family the families service knows, asked through the gateway.

Auth keeps a family as an id and cannot tell a family's from a child's or a made-up one:
before this check, `POST /invitations` made an account for any of them.
"""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from services.auth.models import Account, OutboxMessage
from services.kit.keys import DATABASE
from services.kit.testing import TestSigner
from tests.gateway.conftest import dead_url

from .conftest import FAMILIES_OF, invite, staff_headers, unique_email, url_of


async def new_family(client: TestClient, signer: TestSigner) -> tuple[str, str]:
    """A family made through the families service's API, with one child: (family, child)."""
    families = FAMILIES_OF[client]
    staff = staff_headers(signer)
    created = await families.post("/families", json={"name": "INVITATION"}, headers=staff)
    assert created.status == 201, await created.text()
    family_id = (await created.json())["id"]
    child = await families.post(
        f"/families/{family_id}/persons",
        json={"role": "child", "first_name": "Léa", "last_name": "INVITATION"},
        headers=staff,
    )
    assert child.status == 201, await child.text()
    return family_id, (await child.json())["id"]


async def written_for(client: TestClient, *, email: str, family_id: str) -> dict[str, int]:
    """What auth holds about this e-mail and this family: accounts, and events naming either."""
    async with client.app[DATABASE].sessions() as session:
        accounts = await session.scalar(
            select(func.count()).select_from(Account).where(Account.email == email)
        )
        messages = [m.message for m in await session.scalars(select(OutboxMessage))]
    named = [
        m
        for m in messages
        if m.get("family_id") == family_id
        or m["data"].get("email") == email
        or family_id in (m["data"].get("family_ids") or [])
    ]
    return {"accounts": int(accounts or 0), "events": len(named)}


async def invite_as_staff(client: TestClient, signer: TestSigner, **body: Any) -> Any:
    """POST /invitations as an agent."""
    return await client.post("/invitations", json=body, headers=staff_headers(signer))


async def test_an_id_that_is_no_family_is_refused_and_nothing_is_created(
    auth_client, signer
) -> None:
    client = await auth_client()
    _, child_id = await new_family(client, signer)
    for wrong in (str(uuid.uuid4()), child_id):
        email = unique_email()

        refused = await invite_as_staff(client, signer, email=email, family_id=wrong)

        assert refused.status == 422, wrong
        assert refused.headers["Content-Type"].startswith("application/problem+json")
        problem = await refused.json()
        assert problem["type"].endswith("/family-unknown")
        assert problem["title"] == "Famille inconnue"
        assert "rien n'a été créé" in problem["detail"]
        assert problem["errors"][0]["field"] == "family_id"
        assert await written_for(client, email=email, family_id=wrong) == {
            "accounts": 0,
            "events": 0,
        }


async def test_a_family_the_families_service_knows_is_invited_as_before(
    auth_client, signer
) -> None:
    client = await auth_client()
    family_id, _ = await new_family(client, signer)
    email = unique_email()

    invited = await invite_as_staff(client, signer, email=email, family_id=family_id)

    assert invited.status == 201, await invited.text()
    account = (await invited.json())["account"]
    assert account["memberships"][0]["family_id"] == family_id
    assert await written_for(client, email=email, family_id=family_id) == {
        "accounts": 1,
        "events": 1,  # account.invited
    }


async def test_families_out_of_reach_is_a_503_and_nothing_is_created(
    auth_client, gateway, signer
) -> None:
    # The gateway answers but the families service behind it is down; then no gateway at all.
    without_families = await gateway({})
    for gateway_url in (url_of(without_families), dead_url()):
        client = await auth_client(gateway_url=gateway_url)
        email, family_id = unique_email(), str(uuid.uuid4())

        refused = await invite_as_staff(client, signer, email=email, family_id=family_id)

        assert refused.status == 503, gateway_url
        problem = await refused.json()
        assert problem["type"].endswith("/families-unavailable")
        assert "Réessayez plus tard" in problem["detail"]
        assert await written_for(client, email=email, family_id=family_id) == {
            "accounts": 0,
            "events": 0,
        }


async def test_adding_a_family_to_a_login_checks_it_the_same_way(
    auth_client, gateway, signer
) -> None:
    client = await auth_client()
    account, _ = await invite(client, signer)
    family_id, child_id = await new_family(client, signer)
    path = f"/accounts/{account['id']}/memberships"
    headers = staff_headers(signer)
    # By e-mail (an existing login gets the family) and by account id, the two ways in.
    by_email = await invite_as_staff(client, signer, email=account["email"], family_id=child_id)
    by_id = await client.post(path, json={"family_id": child_id}, headers=headers)
    assert (by_email.status, by_id.status) == (422, 422)
    assert (await by_id.json())["type"].endswith("/family-unknown")
    unreachable = await auth_client(gateway_url=url_of(await gateway({})))
    down = await unreachable.post(path, json={"family_id": family_id}, headers=headers)
    assert down.status == 503
    unchanged = await client.get(f"/accounts/{account['id']}", headers=headers)
    assert len((await unchanged.json())["memberships"]) == 1
    assert (await written_for(client, email="-", family_id=child_id))["events"] == 0

    added = await client.post(path, json={"family_id": family_id}, headers=headers)

    assert added.status == 201, await added.text()
    assert {m["family_id"] for m in (await added.json())["memberships"]} >= {family_id}
