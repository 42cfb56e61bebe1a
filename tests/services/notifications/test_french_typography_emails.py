"""French e-mails keep each « : ; ! ? » with the word before it and « guillemets » with their
words (services/kit/typography.py): no ordinary space a mail reader could break the line at.
Sent through the real consumer and a real SMTP server; English e-mails stay as they were."""

from __future__ import annotations

import re
import uuid
from email.message import EmailMessage
from html.parser import HTMLParser

from services.kit.database import Database
from services.kit.typography import NARROW_NO_BREAK_SPACE, NO_BREAK_SPACE

from .factories import invited, of_type, settings_for
from .mailing import deliver, send_pending
from .smtp_server import SmtpServer

PARENT = "parent.typographie@example.org"
BREAKABLE = re.compile(r"[ \t\r\n]+[:;!?»]|«[ \t\r\n]+")
REASON = "Pièce illisible : « recto » seul, déposée à 10:30 ; merci !"


def part(message: EmailMessage, kind: str) -> str:
    found = message.get_body(preferencelist=(kind,))
    assert found is not None
    return str(found.get_content())


class ShownText(HTMLParser):
    """The text of an HTML part as the reader sees it."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def shown(html: str) -> str:
    reader = ShownText()
    reader.feed(html)
    return "".join(reader.parts)


async def refusal_mail(database: Database, smtp: SmtpServer, language: str) -> EmailMessage:
    settings = settings_for(smtp.port)
    family = str(uuid.uuid4())
    account = str(uuid.uuid4())
    await deliver(
        database, settings, invited(family, PARENT, account_id=account, language=language)
    )
    await send_pending(database, settings)
    refusal = of_type(
        "document.refused", family, source="documents", account_id=account,
        document_type_name="Attestation d'assurance", reason=REASON,
    )  # fmt: skip
    await deliver(database, settings, refusal)
    await send_pending(database, settings)
    [mail] = [
        m for m in smtp.inbox.messages if str(m["Message-ID"]).startswith(f"<{refusal['id']}.")
    ]
    return mail


async def test_a_french_email_keeps_its_colons_and_guillemets_with_their_words(
    database: Database, smtp: SmtpServer
) -> None:
    mail = await refusal_mail(database, smtp, "fr")
    subject, text, html = str(mail["Subject"]), part(mail, "plain"), part(mail, "html")

    assert subject == f"Document refusé{NO_BREAK_SPACE}: Attestation d'assurance"
    assert f"Motif{NO_BREAK_SPACE}: Pièce illisible{NO_BREAK_SPACE}:" in text
    assert f"«{NO_BREAK_SPACE}recto{NO_BREAK_SPACE}»" in text  # plain text: U+00A0 only
    assert re.search(f"{NO_BREAK_SPACE}:\nhttps://portail.example.org/documents", text)  # the link
    assert BREAKABLE.findall(text) == [], text
    assert "10:30" in text and "https://portail.example.org/documents" in text

    assert f"«{NARROW_NO_BREAK_SPACE}recto{NARROW_NO_BREAK_SPACE}»" in html
    assert f"merci{NARROW_NO_BREAK_SPACE}!" in html
    assert BREAKABLE.findall(shown(html)) == [], shown(html)
    assert 'href="https://portail.example.org/documents' in html and "10:30" in html


async def test_an_english_email_is_left_as_it_was(database: Database, smtp: SmtpServer) -> None:
    mail = await refusal_mail(database, smtp, "en")
    text, html = part(mail, "plain"), part(mail, "html")
    assert "Document refused" in str(mail["Subject"])
    for content in (str(mail["Subject"]), text, html):
        assert NO_BREAK_SPACE not in content and NARROW_NO_BREAK_SPACE not in content
    assert REASON in text  # a French reason in an English e-mail: as the service wrote it
