"""« Historique de mes actions » says why a sign-in failed in words: auth's event carries a
code (`password`, `second_factor`), which the page showed as it was — « Échec de connexion —
motif : password » on a French page. Through the real notifications consumer and service."""

from __future__ import annotations

import html
import re
from typing import Any

from services.kit.database import Database
from services.kit.testing import TestSigner

from .factories import event
from .mailing import deliver
from .portal import PARENT, make_portal, sign_in
from .smtp_server import SmtpServer


def failed_lines(page: str) -> list[str]:
    """The detail cell of each failed sign-in line of a history page."""
    rows = re.findall(r'<tr data-event="account\.login_failed">(.*?)</tr>', page, re.DOTALL)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in rows]
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", c[-1])).split()) for c in cells]


async def test_a_failed_sign_in_says_its_reason_in_the_pages_language(
    database: Database, service_client: Any, gateway: Any, upstream: Any,
    signer: TestSigner, smtp: SmtpServer,
) -> None:  # fmt: skip
    portal = await make_portal(database, service_client, gateway, upstream, signer, smtp.port)
    for reason in ("password", "second_factor", "something_new"):
        failed = event("account.login_failed", family_id=portal.family_id)
        failed["source"] = "auth"
        failed["data"] = {"account_id": PARENT, "family_ids": [portal.family_id], "reason": reason}
        await deliver(database, portal.settings, failed)

    await sign_in(portal.client, PARENT)
    french = failed_lines(await (await portal.client.get("/historique")).text())
    english = failed_lines(await (await portal.client.get("/historique?lang=en")).text())

    assert sorted(french) == [
        "votre compte — motif : autre motif",
        "votre compte — motif : code de vérification incorrect",
        "votre compte — motif : mot de passe incorrect",
    ]
    assert sorted(english) == [
        "your account — reason: other reason",
        "your account — reason: wrong password",
        "your account — reason: wrong verification code",
    ]
