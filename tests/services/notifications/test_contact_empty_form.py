"""« Contacter la structure » sent with fields left empty, through the real gateway and
notifications service: the page says all three fields are needed, in the page's language, and
keeps what was typed. The service named only the first field it checked — an empty recipient
read « Ce destinataire n'existe pas », an empty form only « L'objet et le contenu… »."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from services.kit.database import Database
from services.kit.testing import TestSigner
from tests.gateway.conftest import same_origin

from .portal import PARENT, make_portal, sign_in
from .smtp_server import SmtpServer

FRENCH = (
    "Choisissez le destinataire, puis remplissez l'objet et le contenu du message : "
    "les trois sont obligatoires."
)
ENGLISH = "Choose the recipient, then fill in the subject and the message: all three are required."


def error_of(page: str) -> str:
    found = re.search(r"<p[^>]*data-contact-error[^>]*>(.*?)</p>", page, re.DOTALL)
    return " ".join(html.unescape(found.group(1)).split()) if found else ""


@pytest.mark.parametrize(
    "fields",
    [
        {"destinataire": "", "objet": "", "message": ""},
        {"destinataire": "", "objet": "Inscription ALSH", "message": "Bonjour"},
        {"destinataire": "x", "objet": "", "message": "Bonjour"},
    ],
    ids=["all-empty", "no-recipient", "no-subject"],
)
async def test_an_incomplete_message_is_asked_for_in_full(
    database: Database, service_client: Any, gateway: Any, upstream: Any,
    signer: TestSigner, smtp: SmtpServer, fields: dict[str, str],
) -> None:  # fmt: skip
    portal = await make_portal(database, service_client, gateway, upstream, signer, smtp.port)
    csrf = await sign_in(portal.client, PARENT)
    form = {"csrf_token": csrf, "famille": portal.family_id, "captcha": "", **fields}

    french = await portal.client.post("/contact", data=form, headers=same_origin(portal.client))
    english = await portal.client.post(
        "/contact?lang=en", data=form, headers=same_origin(portal.client)
    )

    assert french.status == 422
    page = await french.text()
    assert error_of(page) == FRENCH
    if fields["objet"]:
        assert f'value="{fields["objet"]}"' in page  # what was typed stays
    assert error_of(await english.text()) == ENGLISH
