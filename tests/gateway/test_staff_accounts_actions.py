"""« Comptes » as an administrator uses it, through the real gateway and the real auth service:
no button on one's own row (auth refuses them), « Débloquer » only for an account with failed
sign-ins, and a refused action said on the list instead of an « Accès refusé » error page."""

from __future__ import annotations

import re
import secrets
from typing import Any

from services.kit.testing import TestSigner
from tests.gateway.conftest import same_origin
from tests.services.auth.conftest import (  # noqa: F401 (the auth tests' fixture)
    active_family,
    auth_client,
    sign_in,
)
from tests.services.auth.test_api_client_pages import signed_in_staff
from tests.services.auth.test_pages import body, csrf_of, portal, text_of


def _row(html: str, account_id: str) -> str:
    match = re.search(rf'<tr data-account="{account_id}">(.*?)</tr>', html, re.S)
    assert match, f"no row for {account_id}"
    return match.group(1)


async def test_an_administrator_gets_no_button_on_their_own_account_and_a_refusal_is_said(
    gateway: Any,
    auth_client: Any,  # noqa: F811
    signer: TestSigner,
) -> None:
    client, auth = await portal(gateway, auth_client)
    await signed_in_staff(client, auth, signer, "administrator")
    me = await (await client.get("/api/auth/accounts/me")).json()

    mine = await body(await client.get("/agents/comptes", params={"q": me["email"]}))
    row = _row(mine, me["id"])
    assert "Votre compte" in row, row
    assert "/desactiver" not in row and "/debloquer" not in row, row

    # A stale page (another tab) still posts it: auth refuses, the list says why.
    refused = await client.post(
        f"/agents/comptes/{me['id']}/desactiver",
        data={"csrf_token": csrf_of(mine)},
        headers=same_origin(client),
    )
    said = text_of(await body(refused))
    assert refused.status == 200, said
    assert "Action refusée : personne ne désactive son propre compte" in said, said
    assert "Accès refusé" not in said
    english = text_of(await body(await client.get("/agents/comptes?refus=interdit&lang=en")))
    assert "Action refused: nobody disables their own account" in english, english


async def test_unlock_is_offered_only_to_an_account_with_failed_sign_ins(
    gateway: Any,
    auth_client: Any,  # noqa: F811
    signer: TestSigner,
) -> None:
    client, auth = await portal(gateway, auth_client)
    await signed_in_staff(client, auth, signer, "administrator")
    parent = await active_family(auth, signer)
    account_id = parent["account"]["id"]

    calm = await body(await client.get("/agents/comptes", params={"q": parent["email"]}))
    row = _row(calm, account_id)
    assert "/desactiver" in row, row
    assert "/debloquer" not in row, "nothing to unlock: the button only puzzled the agent"

    assert (await sign_in(auth, parent["email"], "a wrong guess")).status == 401
    tried = await body(await client.get("/agents/comptes", params={"q": parent["email"]}))
    assert f"/agents/comptes/{account_id}/debloquer" in _row(tried, account_id)


async def test_disabling_an_account_asks_first(
    gateway: Any,
    auth_client: Any,  # noqa: F811
    signer: TestSigner,
) -> None:
    """Disabling shuts a family or an agent out at once: the form sits behind a question."""
    client, auth = await portal(gateway, auth_client)
    await signed_in_staff(client, auth, signer, "administrator")
    parent = await active_family(auth, signer)
    account_id = parent["account"]["id"]

    listed = await body(await client.get("/agents/comptes", params={"q": parent["email"]}))
    english = await body(
        await client.get("/agents/comptes", params={"q": parent["email"], "lang": "en"})
    )

    row = _row(listed, account_id)
    disclosures = re.findall(r'<details class="confirm">(.*?)</details>', row, re.S)
    assert any("/desactiver" in d and "Confirmer la désactivation" in d for d in disclosures), row
    assert f"Désactiver le compte {parent['email']}" in text_of(row)
    assert f"Disable the account {parent['email']}?" in english and "Confirm disabling" in english


async def test_the_account_list_pages_past_its_first_page(
    gateway: Any,
    auth_client: Any,  # noqa: F811
    signer: TestSigner,
    monkeypatch: Any,
) -> None:
    # Three to a page here: the town's 100 would need a hundred accounts for the test.
    monkeypatch.setattr("gateway.pages.account.ACCOUNTS_PER_PAGE", 3)
    client, auth = await portal(gateway, auth_client)
    await signed_in_staff(client, auth, signer, "administrator")
    tag = secrets.token_hex(4)
    emails = [f"page-{tag}-{n}@example.org" for n in range(4)]
    for email in emails:
        await active_family(auth, signer, email=email)

    first = await body(await client.get("/agents/comptes", params={"q": f"page-{tag}"}))
    assert "4 compte(s)" in first and "Page 1 sur 2" in first, text_of(first)
    assert first.count("data-account=") == 3
    link = re.search(r'<a href="(/agents/comptes\?[^"]+)" rel="next">Page suivante</a>', first)
    assert link, first
    second = await body(await client.get(link.group(1)))
    assert second.count("data-account=") == 1 and "Page 2 sur 2" in second
    assert 'rel="prev"' in second and 'rel="next"' not in second
    shown = {
        *re.findall(r"<td[^>]*>(page-[^<]+)</td>", first),
        *re.findall(r"<td[^>]*>(page-[^<]+)</td>", second),
    }
    assert shown == set(emails)
    # A forged page number is the first page, not an error.
    forged = await client.get("/agents/comptes", params={"q": f"page-{tag}", "page": "-1"})
    assert forged.status == 200 and "Page 1 sur 2" in await body(forged)
    # « ² » passes str.isdigit() and fails int(); so do 5,000 digits (int()'s 4,300 limit).
    for page in ("²", "9" * 5000):
        forged = await client.get("/agents/comptes", params={"q": f"page-{tag}", "page": page})
        assert forged.status == 200 and "Page 1 sur 2" in await body(forged), page[:5]
