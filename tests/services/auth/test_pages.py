"""The account pages through the real gateway and the real auth service (French screens)."""

from __future__ import annotations

import asyncio
import html as html_module
import json
import re
from urllib.parse import urlparse

import pyotp
from sqlalchemy import update

from services.auth.models import OneTimeToken
from services.kit.keys import DATABASE
from services.kit.outbox import utcnow
from tests.gateway.conftest import same_origin
from tests.totp import previous_code

from .conftest import (
    GOOD_PASSWORD,
    active_family,
    events,
    invite,
    staff_headers,
    unique_email,
    url_of,
    wait_for_event,
)

NEW_PASSWORD = "une phrase de passe toute neuve"


async def portal(gateway, auth_client, auth=None, **services):  # type: ignore[no-untyped-def]
    """The gateway in front of a real auth service (`auth`, else a new one), trusting the keys
    auth publishes (and other services' addresses by name)."""
    auth = auth or await auth_client()
    jwks = await (await auth.get("/.well-known/jwks.json")).json()
    # The gateway fixture's 1 s deadline is for deadline tests; here every service shares
    # the test's event loop with Argon2 hashing, and a loaded machine may take longer.
    client = await gateway(
        {"auth": str(auth.make_url("")).rstrip("/"), **services},
        jwks_json=json.dumps(jwks),
        upstream_deadline_seconds=10.0,
        upstream_connect_timeout_seconds=10.0,
    )
    return client, auth


def local(link: str) -> str:
    """The path and query of a link from an e-mail (the test gateway has its own address)."""
    parts = urlparse(link)
    return f"{parts.path}?{parts.query}"


async def body(response) -> str:  # type: ignore[no-untyped-def]
    """The page's HTML with entities decoded (French apostrophes come escaped)."""
    return html_module.unescape(await response.text())


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]*)"', html)
    assert match, "no CSRF field in the form"
    return match.group(1)


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


async def test_first_sign_in_from_the_email_link_to_the_dashboard(
    gateway, auth_client, signer
) -> None:
    client, auth = await portal(gateway, auth_client)
    _, link = await invite(auth, signer)
    page = await client.get(local(link))
    assert page.status == 200
    html = await body(page)
    assert "Ma première connexion" in html and "au moins 12 caractères" in html
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)

    mismatch = await client.post(
        "/premiere-connexion",
        data={"token": token, "password": GOOD_PASSWORD, "password_confirm": "autre chose"},
        headers=same_origin(client),
    )
    assert mismatch.status == 400
    assert "ne sont pas identiques" in await body(mismatch)
    weak = await client.post(
        "/premiere-connexion",
        data={"token": token, "password": "azertyuiop123", "password_confirm": "azertyuiop123"},
        headers=same_origin(client),
    )
    assert weak.status == 422
    assert "trop courant" in await body(weak)

    done = await client.post(
        "/premiere-connexion",
        data={"token": token, "password": GOOD_PASSWORD, "password_confirm": GOOD_PASSWORD},
        headers=same_origin(client),
        allow_redirects=False,
    )
    assert done.status == 303 and done.headers["Location"] == "/"
    assert "HttpOnly" in done.headers["Set-Cookie"]
    dashboard = await client.get("/")
    assert dashboard.status == 200
    assert "Se déconnecter" in await body(dashboard)

    again = await client.get(local(link))
    assert again.status == 410
    assert "déjà été utilisé" in await body(again)


async def test_an_expired_link_page_offers_a_new_link(gateway, auth_client, signer) -> None:
    client, auth = await portal(gateway, auth_client)
    account, link = await invite(auth, signer)
    async with auth.app[DATABASE].transaction() as session:
        await session.execute(
            update(OneTimeToken)
            .where(OneTimeToken.account_id == account["id"])
            .values(expires_at=utcnow())
        )
    page = await client.get(local(link))
    assert page.status == 410
    html = await body(page)
    assert "Ce lien a expiré" in html and "Recevoir un nouveau lien" in html
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    sent = await client.post(
        "/premiere-connexion/nouveau-lien", data={"token": token}, headers=same_origin(client)
    )
    assert sent.status == 200 and "Vérifiez votre messagerie" in await body(sent)
    for _ in range(100):
        invited = await events(auth, "account.invited", account_id=account["id"])
        if len(invited) == 2:
            break
        await asyncio.sleep(0.05)
    assert len(invited) == 2
    broken = await client.get("/premiere-connexion?token=nimportequoi")
    assert broken.status == 400 and "pas valable" in await body(broken)


async def test_forgotten_password_pages_answer_alike_and_the_link_sets_a_new_password(
    gateway,
    auth_client,
    signer,
) -> None:
    client, auth = await portal(gateway, auth_client)
    parent = await active_family(auth, signer)
    known = await client.post(
        "/mot-de-passe-oublie", data={"email": parent["email"]}, headers=same_origin(client)
    )
    unknown = await client.post(
        "/mot-de-passe-oublie", data={"email": unique_email("ghost")}, headers=same_origin(client)
    )
    assert known.status == unknown.status == 200
    assert text_of(await body(known)) == text_of(await body(unknown))
    event = await wait_for_event(
        auth, "account.password_reset_requested", account_id=parent["account"]["id"]
    )
    form = await client.get(local(event["data"]["link"]))
    assert form.status == 200
    token = re.search(r'name="token" value="([^"]+)"', await body(form)).group(1)
    done = await client.post(
        "/reinitialisation",
        data={"token": token, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
        headers=same_origin(client),
    )
    assert done.status == 200 and "Votre mot de passe est modifié" in await body(done)
    signed_in = await client.post(
        "/connexion",
        data={"email": parent["email"], "password": NEW_PASSWORD},
        headers=same_origin(client),
        allow_redirects=False,
    )
    assert signed_in.status == 303
    reused = await client.get(local(event["data"]["link"]))
    assert reused.status == 410 and "Demander un nouveau lien" in await body(reused)


async def test_sign_in_page_messages(gateway, auth_client, signer) -> None:
    client, auth = await portal(gateway, auth_client)
    parent = await active_family(auth, signer)
    wrong = await client.post(
        "/connexion",
        data={"email": parent["email"], "password": "pas le bon"},
        headers=same_origin(client),
    )
    ghost = await client.post(
        "/connexion",
        data={"email": unique_email(), "password": "pas le bon"},
        headers=same_origin(client),
    )
    assert wrong.status == ghost.status == 401
    assert "Adresse électronique ou mot de passe incorrect." in await body(wrong)
    assert text_of(await body(wrong)).replace(parent["email"], "X") == text_of(
        await body(ghost)
    ).replace(re.search(r'value="([^"]+@example.org)"', await body(ghost)).group(1), "X")


async def test_changing_the_password_from_its_page(gateway, auth_client, signer) -> None:
    client, auth = await portal(gateway, auth_client)
    parent = await active_family(auth, signer)
    await client.post(
        "/connexion",
        data={"email": parent["email"], "password": GOOD_PASSWORD},
        headers=same_origin(client),
    )
    page = await client.get("/mot-de-passe")
    assert page.status == 200
    csrf = csrf_of(await body(page))
    wrong = await client.post(
        "/mot-de-passe",
        data={
            "csrf_token": csrf,
            "current": "pas le bon",
            "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD,
        },
        headers=same_origin(client),
    )
    assert wrong.status == 403 and "actuel n'est pas le bon" in await body(wrong)
    done = await client.post(
        "/mot-de-passe",
        data={
            "csrf_token": csrf,
            "current": GOOD_PASSWORD,
            "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD,
        },
        headers=same_origin(client),
    )
    assert done.status == 200 and "a été modifié" in await body(done)
    # This browser stays signed in; the parent's other session (from the invitation) ended.
    assert (await client.get("/")).status == 200
    other = await auth.post(
        "/sessions/refresh", headers={"X-Session-Token": parent["session_token"]}
    )
    assert other.status == 401
    without_csrf = await client.post(
        "/mot-de-passe",
        data={
            "current": NEW_PASSWORD,
            "password": GOOD_PASSWORD,
            "password_confirm": GOOD_PASSWORD,
        },
        headers=same_origin(client),
    )
    assert without_csrf.status == 403


async def test_staff_enrol_totp_then_manage_family_accounts(
    gateway, auth_client, signer, service_client
) -> None:
    auth = await auth_client()
    # The families service trusts auth's keys too: it reads the agent's session token.
    auth_keys = (await (await auth.get("/.well-known/jwks.json")).json())["keys"]
    jwks = json.dumps({"keys": auth_keys + signer.jwks["keys"]})
    families = await service_client("families", jwks_json=jwks)
    # Auth checks the family with the agent's token too, through a gateway trusting its keys
    # (another auth app on the same database: the keys are the same).
    front = await gateway({"families": url_of(families)}, jwks_json=jwks)
    auth = await auth_client(gateway_url=url_of(front))
    created = await families.post(
        "/families",
        json={"name": "ETCHEVERRY", "email": "e@example.org"},
        headers=signer.headers(role="staff", subject="agent-1"),
    )
    assert created.status == 201, await created.text()
    family = (await created.json())["id"]
    client, auth = await portal(
        gateway, auth_client, auth, families=str(families.make_url("")).rstrip("/")
    )
    email = unique_email("agent")
    invited = await auth.post(
        "/staff",
        json={"email": email, "roles": ["agent"]},
        headers=staff_headers(signer, "administrator"),
    )
    account_id = (await invited.json())["account"]["id"]
    event = await wait_for_event(auth, "account.invited", account_id=account_id)
    page = await client.get(local(event["data"]["link"]))
    token = re.search(r'name="token" value="([^"]+)"', await body(page)).group(1)
    enrol = await client.post(
        "/premiere-connexion",
        data={"token": token, "password": GOOD_PASSWORD, "password_confirm": GOOD_PASSWORD},
        headers=same_origin(client),
    )
    assert enrol.status == 200
    html = await body(enrol)
    assert "Activer la double authentification" in html and "otpauth://" in html
    secret = re.search(r'name="secret" value="([^"]+)"', html).group(1)
    enrolment_token = re.search(r'name="enrolment_token" value="([^"]+)"', html).group(1)
    totp = pyotp.TOTP(secret)
    codes = await client.post(
        "/double-authentification",
        data={
            "enrolment_token": enrolment_token,
            "secret": secret,
            "code": previous_code(totp.secret),
        },
        headers=same_origin(client),
    )
    assert codes.status == 200 and "codes de secours" in await body(codes)

    no_code = await client.post(
        "/connexion", data={"email": email, "password": GOOD_PASSWORD}, headers=same_origin(client)
    )
    assert no_code.status == 401 and "code à 6 chiffres" in await body(no_code)
    signed_in = await client.post(
        "/connexion",
        data={"email": email, "password": GOOD_PASSWORD, "totp_code": totp.now()},
        headers=same_origin(client),
        allow_redirects=False,
    )
    assert signed_in.status == 303
    # The list speaks French: the role « administrateur », the last sign-in as a French date.
    administrator = unique_email("admin")
    await auth.post(
        "/staff",
        json={"email": administrator, "roles": ["administrator"]},
        headers=staff_headers(signer, "administrator"),
    )
    listed_admin = await body(await client.get(f"/agents/comptes?q={administrator}"))
    assert "Agent (administrateur)" in listed_admin and "administrator)" not in listed_admin
    # Only administrators act on staff accounts: this agent gets no button that auth refuses.
    assert "/desactiver" not in listed_admin and "Géré par un administrateur" in listed_admin
    listed_self = await body(await client.get(f"/agents/comptes?q={email}"))
    assert re.search(r"<td[^>]*>\d{2}/\d{2}/\d{4} \d{2}:\d{2}</td>", listed_self), listed_self
    assert "table-scroll" in listed_self  # six columns scroll inside their box on a phone

    family_email = unique_email("famille")
    invite_page = await client.get("/agents/comptes/inviter")
    csrf = csrf_of(await body(invite_page))
    # An id of the wrong kind (a child's) or of nothing made an account of a family that is
    # none: auth cannot tell, the families service can.
    child = await families.post(
        f"/families/{family}/persons",
        json={"role": "child", "first_name": "Léa", "last_name": "ETCHEVERRY"},
        headers=signer.headers(role="staff", subject="agent-1"),
    )
    assert child.status == 201, await child.text()
    for wrong in ((await child.json())["id"], "00000000-0000-4000-8000-000000000000"):
        refused = await client.post(
            "/agents/comptes/inviter",
            data={"csrf_token": csrf, "email": family_email, "family_id": wrong,
                  "rights": ["book"]},
            headers=same_origin(client),
        )  # fmt: skip
        assert refused.status == 422, wrong
        assert "L'identifiant de famille n'est pas valide." in await body(refused)
    nobody = await body(await client.get(f"/agents/comptes?q={family_email}"))
    assert "data-account=" not in nobody, "no account was made"
    sent = await client.post(
        "/agents/comptes/inviter",
        data={
            "csrf_token": csrf,
            "email": family_email,
            "family_id": family,
            "rights": ["book", "invoices"],
        },
        headers=same_origin(client),
    )
    assert sent.status == 200 and "L'invitation est envoyée." in await body(sent)
    listed = await client.get(f"/agents/comptes?q={family_email}")
    html = await body(listed)
    family_id = re.search(r'data-account="([^"]+)"', html).group(1)
    assert "Invité" in html
    # The family by its name, a link to its record — not its id, which told the agent nothing.
    assert f'<a href="/agents/familles/{family}">ETCHEVERRY</a>' in html
    disabled = await client.post(
        f"/agents/comptes/{family_id}/desactiver",
        data={"csrf_token": csrf},
        headers=same_origin(client),
    )
    assert disabled.status == 200
    html = await (await client.get(f"/agents/comptes?q={family_email}")).text()
    assert 'data-state="disabled"' in html


async def test_parents_do_not_see_staff_pages(gateway, auth_client, signer) -> None:
    client, auth = await portal(gateway, auth_client)
    parent = await active_family(auth, signer)
    await client.post(
        "/connexion",
        data={"email": parent["email"], "password": GOOD_PASSWORD},
        headers=same_origin(client),
    )
    page = await client.get("/agents/comptes")
    assert page.status == 403 and "Accès refusé" in await body(page)
    anonymous_client, _ = await portal(gateway, auth_client)
    redirected = await anonymous_client.get("/mot-de-passe", allow_redirects=False)
    assert redirected.status == 303 and redirected.headers["Location"].startswith("/connexion")


async def test_a_parent_turns_the_optional_second_factor_on_and_off(
    gateway, auth_client, signer
) -> None:
    client, auth = await portal(gateway, auth_client)
    parent = await active_family(auth, signer)
    origin = same_origin(client)
    await client.post(
        "/connexion", data={"email": parent["email"], "password": GOOD_PASSWORD}, headers=origin
    )
    page = await client.get("/securite")
    csrf = csrf_of(await body(page))
    assert "Activer la double authentification" in await body(page)
    begun = await client.post("/securite/activer", data={"csrf_token": csrf}, headers=origin)
    html = await body(begun)
    secret = re.search(r'name="secret" value="([^"]+)"', html).group(1)
    assert 'action="/securite/confirmer"' in html
    totp = pyotp.TOTP(secret)
    bad = await client.post(
        "/securite/confirmer",
        data={"csrf_token": csrf, "code": "000000", "secret": secret},
        headers=origin,
    )
    assert bad.status == 422 and "ne correspond pas" in await body(bad)
    done = await client.post(
        "/securite/confirmer",
        data={"csrf_token": csrf, "code": previous_code(totp.secret), "secret": secret},
        headers=origin,
    )
    assert done.status == 200 and "codes de secours" in await body(done)

    needs_code = await auth.post(
        "/sessions", json={"email": parent["email"], "password": GOOD_PASSWORD}
    )
    assert (await needs_code.json())["type"].endswith("/mfa-required")

    wrong = await client.post(
        "/securite/desactiver", data={"csrf_token": csrf, "password": "pas le bon"}, headers=origin
    )
    assert wrong.status == 403 and "pas le bon" in await body(wrong)
    off = await client.post(
        "/securite/desactiver",
        data={"csrf_token": csrf, "password": GOOD_PASSWORD},
        headers=origin,
        allow_redirects=False,
    )
    assert off.status == 303
    signed_in = await auth.post(
        "/sessions", json={"email": parent["email"], "password": GOOD_PASSWORD}
    )
    assert signed_in.status == 201
