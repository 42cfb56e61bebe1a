"""The SMTP catcher stores what the portal sends and shows it, escaped, in the web inbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path

import aiohttp
import aiosmtplib
import pytest

from portail.devstack.mailcatcher import MailCatcher
from portail.devstack.ports import free_port


@pytest.fixture
async def catcher(tmp_path: Path) -> AsyncIterator[MailCatcher]:
    server = MailCatcher(tmp_path / "mail", smtp_port=free_port(), http_port=free_port())
    await server.start()
    yield server
    await server.stop()


def _approval() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Portail Famille <ne-pas-repondre@example.org>"
    message["To"] = "famille.test@example.org"
    message["Subject"] = "Demande <script>alert(1)</script> acceptée"
    message.set_content("Bonjour,\nvotre demande d'inscription à l'ALSH Josta Leku est acceptée.")
    message.add_alternative("<p onclick='x()'>Bonjour <b>TEST</b></p>", subtype="html")
    return message


async def _get(catcher: MailCatcher, path: str) -> tuple[int, str, dict[str, str]]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{catcher.http_port}{path}") as response,
    ):
        return response.status, await response.text(), dict(response.headers)


async def test_a_sent_message_is_stored_and_listed_with_its_subject_escaped(
    catcher: MailCatcher,
) -> None:
    await aiosmtplib.send(_approval(), hostname="127.0.0.1", port=catcher.smtp_port)

    stored = list(catcher.store.directory.glob("*.eml"))
    assert len(stored) == 1
    assert b"famille.test@example.org" in stored[0].read_bytes()

    status, page, _ = await _get(catcher, "/")
    assert status == 200
    assert "Demande &lt;script&gt;alert(1)&lt;/script&gt; acceptée" in page
    assert "<script>" not in page
    assert "famille.test@example.org" in page


async def test_the_message_page_shows_the_text_and_sandboxes_the_html(
    catcher: MailCatcher,
) -> None:
    await aiosmtplib.send(_approval(), hostname="127.0.0.1", port=catcher.smtp_port)
    message_id = catcher.store.ids()[0]

    status, page, _ = await _get(catcher, f"/messages/{message_id}")
    assert status == 200
    assert "ALSH Josta Leku est acceptée" in page
    assert "sandbox" in page and "<b>TEST</b>" not in page

    status, html, headers = await _get(catcher, f"/messages/{message_id}/html")
    assert status == 200 and "<b>TEST</b>" in html
    assert headers["Content-Security-Policy"].startswith("sandbox")


async def test_messages_are_listed_newest_first_and_outlive_the_catcher(
    catcher: MailCatcher, tmp_path: Path
) -> None:
    for subject in ("premier", "second"):
        message = EmailMessage()
        message["From"], message["To"] = "a@example.org", "b@example.org"
        message["Subject"] = subject
        message.set_content("x")
        await aiosmtplib.send(message, hostname="127.0.0.1", port=catcher.smtp_port)
    await catcher.stop()

    again = MailCatcher(tmp_path / "mail", smtp_port=free_port(), http_port=free_port())
    await again.start()
    try:
        _, page, _ = await _get(again, "/")
    finally:
        await again.stop()
    assert page.index("second") < page.index("premier")


@pytest.mark.parametrize(
    "bad_id", ["nope", "..%2F..%2Fetc%2Fpasswd", "20261128T000000000000-00000000"]
)
async def test_unknown_or_foreign_message_ids_answer_404(catcher: MailCatcher, bad_id: str) -> None:
    status, _, _ = await _get(catcher, f"/messages/{bad_id}")
    assert status == 404
