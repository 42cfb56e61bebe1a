"""« Comptes » (back office): administrators invite staff members and change their role,
through the real gateway and the real auth service; the invitation e-mail a staff member
gets goes through the real notifications service to a real SMTP server."""

from __future__ import annotations

import re
from typing import Any

import pyotp
from sqlalchemy import select

from services.auth.models import OutboxMessage
from services.kit.database import Database
from services.kit.keys import DATABASE
from services.kit.typography import french_spacing
from services.notifications.emails import render
from tests import support
from tests.gateway.conftest import same_origin
from tests.services.notifications.factories import settings_for
from tests.services.notifications.mailing import deliver, send_pending
from tests.services.notifications.smtp_server import SmtpServer
from tests.totp import previous_code

from .conftest import GOOD_PASSWORD, PUBLIC_BASE_URL, staff_headers, unique_email, wait_for_event
from .test_pages import body, csrf_of, local, portal


async def signed_in_staff(client: Any, auth: Any, signer: Any, role: str) -> tuple[str, str]:
    """A staff member invited with `role`, enrolled and signed in on `client` the way the
    demo staff are (password, then TOTP); returns their account id and the page's CSRF."""
    member = await enrolled_staff(client, auth, signer, role)
    signed = await client.post(
        "/connexion",
        data={
            "email": member["email"],
            "password": GOOD_PASSWORD,
            "totp_code": member["totp"].now(),
        },
        headers=same_origin(client),
        allow_redirects=False,
    )
    assert signed.status == 303, await signed.text()
    return member["id"], csrf_of(await body(await client.get("/agents/comptes")))


async def enrolled_staff(client: Any, auth: Any, signer: Any, role: str) -> dict[str, Any]:
    """A staff member invited with `role` who chose a password and enrolled TOTP through the
    gateway's pages: their account id, e-mail and authenticator."""
    email = unique_email(role)
    invited = await auth.post(
        "/staff",
        json={"email": email, "roles": [role]},
        headers=staff_headers(signer, "administrator"),
    )
    account_id = (await invited.json())["account"]["id"]
    event = await wait_for_event(auth, "account.invited", account_id=account_id)
    page = await body(await client.get(local(event["data"]["link"])))
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    enrol = await body(
        await client.post(
            "/premiere-connexion",
            data={"token": token, "password": GOOD_PASSWORD, "password_confirm": GOOD_PASSWORD},
            headers=same_origin(client),
        )
    )
    secret = re.search(r'name="secret" value="([^"]+)"', enrol).group(1)
    totp = pyotp.TOTP(secret)
    done = await client.post(
        "/double-authentification",
        data={
            "enrolment_token": re.search(r'name="enrolment_token" value="([^"]+)"', enrol).group(1),
            "secret": secret,
            "code": previous_code(totp.secret),
        },
        headers=same_origin(client),
    )
    assert done.status == 200, await done.text()
    return {"id": account_id, "email": email, "totp": totp}


def row_of(html: str, account_id: str) -> str:
    return html.split(f'data-account="{account_id}"', 1)[1].split("</tr>", 1)[0]


async def test_an_administrator_invites_a_staff_member_and_changes_roles(
    gateway, auth_client, signer
) -> None:
    client, auth = await portal(gateway, auth_client)
    me, csrf = await signed_in_staff(client, auth, signer, "administrator")
    origin = same_origin(client)
    listed = await body(await client.get("/agents/comptes"))
    assert 'href="/agents/comptes/inviter-agent"' in listed
    assert "Inviter un membre du personnel" in listed

    form = await client.get("/agents/comptes/inviter-agent")
    assert form.status == 200
    html = await body(form)
    assert 'name="email"' in html and 'value="agent" checked' in html
    assert 'value="administrator"' in html
    english = await body(await client.get("/agents/comptes/inviter-agent?lang=en"))
    assert "Invite a staff member" in english and "Work e-mail address" in english
    assert "Administrator" in english and "personnel" not in english
    await client.get("/agents/comptes?lang=fr")  # the language cookie back to French

    bad = await client.post(
        "/agents/comptes/inviter-agent",
        data={"csrf_token": csrf, "email": "pas-une-adresse", "role": "agent"},
        headers=origin,
    )
    assert bad.status == 422 and "L'adresse électronique n'est pas valide." in await body(bad)

    email = unique_email("nouvel-agent")
    sent = await client.post(
        "/agents/comptes/inviter-agent",
        data={"csrf_token": csrf, "email": email, "role": "agent"},
        headers=origin,
    )
    assert sent.status == 200 and "L'invitation est envoyée" in await body(sent)
    again = await client.post(
        "/agents/comptes/inviter-agent",
        data={"csrf_token": csrf, "email": email, "role": "administrator"},
        headers=origin,
    )
    assert again.status == 409 and "Un compte existe déjà" in await body(again)

    listed = await body(await client.get(f"/agents/comptes?q={email}"))
    account_id = re.search(r'data-account="([^"]+)"', listed).group(1)
    row = row_of(listed, account_id)
    assert "Agent (agent)" in row and "Invité" in row
    link = f"/agents/comptes/{account_id}/role/administrator"
    assert f'href="{link}"' in row and "Passer administrateur" in row

    confirm = await body(await client.get(link))
    assert french_spacing(f"{email} deviendra : administrateur.") in confirm
    assert f'action="{link}"' in confirm and "Confirmer le changement" in confirm
    changed = await client.post(link, data={"csrf_token": csrf}, headers=origin)
    assert changed.status == 200 and "Le rôle est changé" in await body(changed)
    account = await (
        await auth.get(f"/accounts/{account_id}", headers=staff_headers(signer))
    ).json()
    assert account["staff_roles"] == ["administrator"]
    row = row_of(await body(await client.get(f"/agents/comptes?q={email}")), account_id)
    assert "Agent (administrateur)" in row and "Passer agent" in row

    # No button on one's own row; a forged POST gets auth's refusal, in French.
    assert "/role/" not in row_of(await body(await client.get("/agents/comptes")), me)
    own = await client.post(
        f"/agents/comptes/{me}/role/agent", data={"csrf_token": csrf}, headers=origin
    )
    assert own.status == 200
    assert "Vous ne pouvez pas changer votre propre rôle" in await body(own)
    mine = await (await auth.get(f"/accounts/{me}", headers=staff_headers(signer))).json()
    assert mine["staff_roles"] == ["administrator"]


async def test_an_agent_gets_no_staff_management(gateway, auth_client, signer) -> None:
    client, auth = await portal(gateway, auth_client)
    _, csrf = await signed_in_staff(client, auth, signer, "agent")
    colleague = unique_email("collegue")
    created = await auth.post(
        "/staff",
        json={"email": colleague, "roles": ["agent"]},
        headers=staff_headers(signer, "administrator"),
    )
    colleague_id = (await created.json())["account"]["id"]
    listed = await body(await client.get(f"/agents/comptes?q={colleague}"))
    assert "inviter-agent" not in listed and "Inviter un membre du personnel" not in listed
    assert "/role/" not in listed

    page = await client.get("/agents/comptes/inviter-agent")
    assert page.status == 403 and "Accès refusé" in await body(page)
    forged = await client.post(
        "/agents/comptes/inviter-agent",
        data={"csrf_token": csrf, "email": unique_email("intrus"), "role": "administrator"},
        headers=same_origin(client),
    )
    assert forged.status == 403 and "Accès refusé" in await body(forged)
    promoted = await client.post(
        f"/agents/comptes/{colleague_id}/role/administrator",
        data={"csrf_token": csrf},
        headers=same_origin(client),
    )
    assert promoted.status == 403 and "Accès refusé" in await body(promoted)
    account = await (
        await auth.get(f"/accounts/{colleague_id}", headers=staff_headers(signer))
    ).json()
    assert account["staff_roles"] == ["agent"]


async def test_the_staff_invitation_email_speaks_of_the_agents_space_and_totp(
    auth_client, signer, service_databases
) -> None:
    smtp = SmtpServer()
    smtp.start()
    try:
        auth = await auth_client()
        email = unique_email("agent-mail")
        invited = await auth.post(
            "/staff",
            json={"email": email, "roles": ["agent"]},
            headers=staff_headers(signer, "administrator"),
        )
        account_id = (await invited.json())["account"]["id"]
        async with auth.app[DATABASE].sessions() as session:
            rows = await session.scalars(
                select(OutboxMessage).where(OutboxMessage.event_type == "account.invited")
            )
            message = next(r.message for r in rows if r.message["data"]["account_id"] == account_id)
        if "notifications" not in service_databases:
            service_databases["notifications"] = await support.prepare_service_database(
                "notifications"
            )
        database = Database(service_databases["notifications"], pool_size=2)
        try:
            settings = settings_for(smtp.port, PUBLIC_BASE_URL=PUBLIC_BASE_URL)
            await deliver(database, settings, message)
            await send_pending(database, settings)
        finally:
            await database.dispose()
        [mail] = smtp.inbox.to(email)
        text = " ".join(mail.get_body(preferencelist=("plain",)).get_content().split())
        assert mail["Subject"] == "Créez votre mot de passe pour l'espace des agents"
        # Header and footer too: the agents' space, where the link leads.
        assert "accès à l'espace des agents" in text and "Espace Famille" not in text
        assert "Espace des agents" in text
        assert "activer la double authentification" in text and "QR code" in text
        assert f"{PUBLIC_BASE_URL}/premiere-connexion?token=" in text

        english = render(
            "invitation", settings=settings, language="en", data=message["data"], link="x"
        )
        assert english.subject == "Create your password for the staff area"
        assert "staff account" in english.text and "two-step verification" in english.text
        # A family's invitation keeps its own wording.
        family = render("invitation", settings=settings, data={"kind": "family"}, link="x")
        assert "accès à l'Espace Famille" in " ".join(family.text.split())
    finally:
        smtp.stop()
