"""The RGPD export of auth: the family's accounts, this family's memberships and their
sign-ins, without any secret, and nothing of another family."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import select

from services.auth.models import Account, Session
from services.kit.keys import DATABASE

from .conftest import GOOD_PASSWORD, active_family, sign_in, staff_headers


async def test_the_export_holds_the_familys_accounts_and_sign_ins_without_secrets(
    auth_client, signer
) -> None:
    client = await auth_client()
    mine, theirs = str(uuid.uuid4()), str(uuid.uuid4())
    parent = await active_family(client, signer, family_id=mine)
    signed_in = await sign_in(client, parent["email"], GOOD_PASSWORD)
    assert signed_in.status == 201
    session_token = (await signed_in.json())["session_token"]
    stranger = await active_family(client, signer, family_id=theirs)
    # The parent also belongs to the other household: that membership is not ours to show.
    shared = await client.post(
        f"/accounts/{parent['account']['id']}/memberships",
        json={"family_id": theirs},
        headers=staff_headers(signer),
    )
    assert shared.status in (200, 201), await shared.text()

    response = await client.get(f"/families/{mine}/export", headers=signer.headers(families=[mine]))

    assert response.status == 200, await response.text()
    assert "attachment" in response.headers["Content-Disposition"]
    export = await response.json()
    assert export["service"] == "auth" and export["family_id"] == mine
    [account] = export["accounts"]
    assert account["id"] == parent["account"]["id"] and account["email"] == parent["email"]
    assert account["state"] == "active" and account["rights"]
    assert len(account["sign_ins"]) == 2  # the invitation's acceptance, then the sign-in
    assert [link["purpose"] for link in account["links"]] == ["invitation"]
    text = json.dumps(export)
    async with client.app[DATABASE].sessions() as session:
        stored = await session.get(Account, parent["account"]["id"])
        token_hashes = list(await session.scalars(select(Session.token_hash)))
    assert stored is not None and stored.password_hash
    for secret in (stored.password_hash, session_token, *token_hashes, "argon2"):
        assert secret not in text
    for foreign in (theirs, stranger["email"], stranger["account"]["id"]):
        assert foreign not in text


async def test_staff_export_a_family_and_another_familys_id_is_a_404(auth_client, signer) -> None:
    client = await auth_client()
    mine, theirs = str(uuid.uuid4()), str(uuid.uuid4())
    stranger = await active_family(client, signer, family_id=theirs)

    foreign = await client.get(
        f"/families/{theirs}/export", headers=signer.headers(families=[mine])
    )
    assert foreign.status == 404
    assert foreign.content_type == "application/problem+json"
    assert (await client.get(f"/families/{mine}/export")).status == 401
    by_staff = await client.get(f"/families/{theirs}/export", headers=staff_headers(signer))
    assert by_staff.status == 200
    assert [a["email"] for a in (await by_staff.json())["accounts"]] == [stranger["email"]]
