"""An account's language, end to end: a signed-in parent switches the pages to English in the
real gateway → auth records it and emits `account.language_changed` → the notifications
consumer learns it → the family's next e-mail reaches a real SMTP server in English."""

from __future__ import annotations

import json
import uuid
from typing import Any

from services.kit.database import Database
from tests import support
from tests.gateway.conftest import same_origin
from tests.services.notifications.factories import of_type, settings_for
from tests.services.notifications.mailing import deliver, send_pending
from tests.services.notifications.smtp_server import SmtpServer

from .conftest import active_family, events, staff_headers


async def test_patch_accounts_me_sets_the_language_once_and_refuses_others(
    auth_client, signer
) -> None:
    auth = await auth_client()
    parent = await active_family(auth, signer)
    mine = {"Authorization": f"Bearer {parent['token']}"}
    account_id = parent["account"]["id"]

    first = await auth.patch("/accounts/me", json={"language": "en"}, headers=mine)
    again = await auth.patch("/accounts/me", json={"language": "en"}, headers=mine)
    unknown = await auth.patch("/accounts/me", json={"language": "de"}, headers=mine)
    extra = await auth.patch("/accounts/me", json={"language": "en", "kind": "staff"}, headers=mine)
    anonymous = await auth.patch("/accounts/me", json={"language": "en"})

    assert first.status == 200 and (await first.json())["language"] == "en"
    assert again.status == 200
    assert (unknown.status, extra.status, anonymous.status) == (422, 422, 401)
    read = await (await auth.get("/accounts/me", headers=mine)).json()
    assert (read["language"], read["kind"]) == ("en", "family")
    changed = await events(auth, "account.language_changed", account_id=account_id)
    assert [e["data"]["language"] for e in changed] == ["en"], "one event per real change"
    staff_view = await auth.get(f"/accounts/{account_id}", headers=staff_headers(signer))
    assert (await staff_view.json())["language"] == "en"


async def test_every_account_event_carries_the_accounts_language(auth_client, signer) -> None:
    auth = await auth_client()
    parent = await active_family(auth, signer)

    (invited,) = await events(auth, "account.invited", account_id=parent["account"]["id"])
    (activated,) = await events(auth, "account.activated", account_id=parent["account"]["id"])

    assert invited["data"]["language"] == activated["data"]["language"] == "fr"


async def test_switching_the_pages_to_english_makes_the_familys_emails_english(
    auth_client, signer, gateway, service_databases
) -> None:
    auth = await auth_client()
    jwks = await (await auth.get("/.well-known/jwks.json")).json()
    portal = await gateway({"auth": str(auth.make_url("")).rstrip("/")}, jwks_json=json.dumps(jwks))
    family = str(uuid.uuid4())
    parent = await active_family(auth, signer, family_id=family)
    account_id = parent["account"]["id"]
    signed_in = await portal.post(
        "/connexion",
        data={"email": parent["email"], "password": parent["password"]},
        headers=same_origin(portal),
        allow_redirects=False,
    )
    assert signed_in.status == 303, await signed_in.text()

    switched = await portal.get("/mot-de-passe?lang=en", headers={"Sec-Fetch-Site": "same-origin"})
    # Another site's link switches the page only (the session cookie is SameSite=Lax).
    from_elsewhere = await portal.get(
        "/mot-de-passe?lang=fr", headers={"Sec-Fetch-Site": "cross-site"}
    )

    assert switched.status == 200 and 'lang="en"' in await switched.text()
    assert from_elsewhere.status == 200 and 'lang="fr"' in await from_elsewhere.text()
    (changed,) = await events(auth, "account.language_changed", account_id=account_id)
    assert changed["data"]["language"] == "en" and changed["data"]["family_ids"] == [family]

    me = await auth.get("/accounts/me", headers={"Authorization": f"Bearer {parent['token']}"})
    assert (await me.json())["language"] == "en"

    # Signed out (the session forgotten, the `lang` cookie kept), back to French, signed in
    # again: the language chosen on this browser becomes the account's.
    portal.session.cookie_jar.clear(lambda cookie: cookie.key != "lang")
    assert (await portal.get("/connexion?lang=fr")).status == 200
    assert len(await events(auth, "account.language_changed", account_id=account_id)) == 1
    again = await portal.post(
        "/connexion",
        data={"email": parent["email"], "password": parent["password"]},
        headers=same_origin(portal),
        allow_redirects=False,
    )
    assert again.status == 303
    back = await events(auth, "account.language_changed", account_id=account_id)
    assert [e["data"]["language"] for e in back] == ["en", "fr"]
    switched_again = await portal.get("/mot-de-passe?lang=en")  # no Sec-Fetch-Site: our own
    assert switched_again.status == 200
    changes = await events(auth, "account.language_changed", account_id=account_id)
    assert [e["data"]["language"] for e in changes] == ["en", "fr", "en"]

    smtp = SmtpServer()
    smtp.start()
    database = await _notifications_database(service_databases)
    try:
        settings = settings_for(smtp.port)
        # In the order auth wrote them (the consumer keeps the newest it is told).
        for event_type in ("account.invited", "account.activated", "account.language_changed"):
            for message in await events(auth, event_type, account_id=account_id):
                await deliver(database, settings, message)
        refusal = of_type(
            "registration.refused",
            family,
            source="bookings",
            person_name="Enfant TEST",
            activity_name="ALSH Josta Leku",
            reason="complet",
        )
        await deliver(database, settings, refusal)
        await send_pending(database, settings)
    finally:
        await database.dispose()
        smtp.stop()

    mails = smtp.inbox.to(parent["email"])
    decision = [m for m in mails if refusal["id"] in str(m["Message-ID"])]
    assert [str(m["Subject"]) for m in decision] == ["Registration request refused"]
    assert decision[0]["Content-Language"] == "en"
    text = str(decision[0].get_body(preferencelist=("plain",)).get_content())
    assert "Reason: complet" in text and "Bonjour" not in text


async def _notifications_database(service_databases: dict[str, Any]) -> Database:
    if "notifications" not in service_databases:
        service_databases["notifications"] = await support.prepare_service_database("notifications")
    return Database(service_databases["notifications"], pool_size=2)
