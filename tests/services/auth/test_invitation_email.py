"""The invitation e-mail, end to end: auth's outbox event → notifications → a real SMTP server
→ the link in the message, followed through the real gateway to the dashboard."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from services.auth.models import OutboxMessage
from services.kit.database import Database
from services.kit.keys import DATABASE
from tests import support
from tests.gateway.conftest import same_origin
from tests.services.notifications.factories import settings_for
from tests.services.notifications.mailing import deliver, send_pending
from tests.services.notifications.smtp_server import SmtpServer

from .conftest import GOOD_PASSWORD, PUBLIC_BASE_URL, ensure_family, staff_headers, unique_email


async def test_the_invitation_email_link_opens_the_first_sign_in(
    auth_client, signer, gateway, service_databases
) -> None:
    smtp = SmtpServer()
    smtp.start()
    try:
        auth = await auth_client()
        jwks = await (await auth.get("/.well-known/jwks.json")).json()
        portal = await gateway(
            {"auth": str(auth.make_url("")).rstrip("/")}, jwks_json=json.dumps(jwks)
        )
        email = unique_email("parent")
        invited = await auth.post(
            "/invitations",
            json={"email": email, "family_id": await ensure_family(auth, "fam-mail")},
            headers=staff_headers(signer),
        )
        account_id = (await invited.json())["account"]["id"]

        # The relay would publish this row; the worker hands it to the consumer, as here.
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
        text = mail.get_body(preferencelist=("plain",)).get_content()
        link = re.search(rf"{re.escape(PUBLIC_BASE_URL)}/premiere-connexion\?token=[\w-]+", text)
        assert link, text
        path = link.group(0).removeprefix(PUBLIC_BASE_URL)

        page = await portal.get(path)
        assert page.status == 200
        token = re.search(r'name="token" value="([^"]+)"', await page.text()).group(1)
        done = await portal.post(
            "/premiere-connexion",
            data={"token": token, "password": GOOD_PASSWORD, "password_confirm": GOOD_PASSWORD},
            headers=same_origin(portal),
            allow_redirects=False,
        )
        assert done.status == 303 and done.headers["Location"] == "/"
        assert (await portal.get("/")).status == 200
    finally:
        smtp.stop()
