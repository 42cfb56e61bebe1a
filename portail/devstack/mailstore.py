"""The SMTP catcher's mailbox: one `.eml` file per message under `var/mail/`, newest first."""

from __future__ import annotations

import email
import email.policy
import os
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

_ID = re.compile(r"^[0-9]{8}T[0-9]{12}-[0-9a-f]{8}$")


@dataclass(frozen=True)
class StoredMessage:
    """A received message, parsed for display."""

    id: str
    received_at: datetime
    envelope_from: str
    envelope_to: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        """The decoded Subject header."""
        return str(self.message.get("Subject", ""))

    @property
    def sender(self) -> str:
        """The From header, else the envelope sender."""
        return str(self.message.get("From", "")) or self.envelope_from

    @property
    def recipients(self) -> str:
        """The To header, else the envelope recipients."""
        return str(self.message.get("To", "")) or ", ".join(self.envelope_to)

    @property
    def date(self) -> datetime:
        """The Date header when readable, else when it arrived."""
        try:
            value = parsedate_to_datetime(str(self.message["Date"]))
        except (TypeError, ValueError):
            return self.received_at
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    def body(self, subtype: str) -> str | None:
        """The text of the `plain` or `html` part, if the message has one."""
        part = self.message.get_body(preferencelist=(subtype,))
        if part is None or part.get_content_subtype() != subtype:
            return None
        return str(part.get_content())

    def attachments(self) -> list[tuple[str, int]]:
        """(file name, size in bytes) of each attachment."""
        found = []
        for part in self.message.iter_attachments():
            payload = part.get_payload(decode=True) or b""
            found.append((part.get_filename() or "sans nom", len(payload)))
        return found


class MailStore:
    """Messages saved as files, so that they outlive the catcher and can be opened by hand."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def save(self, raw: bytes, *, envelope_from: str, envelope_to: list[str]) -> str:
        """Store one message as received; returns its id."""
        now = datetime.now(UTC)
        message_id = f"{now:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"
        # The envelope is kept in headers of our own, as mail servers do with Return-Path.
        header = (
            f"X-Envelope-From: <{envelope_from}>\r\n"
            f"X-Envelope-To: {', '.join(f'<{r}>' for r in envelope_to)}\r\n"
        ).encode("utf-8", "replace")
        temporary = self.directory / f".{message_id}.tmp"
        temporary.write_bytes(header + raw)
        os.replace(temporary, self.directory / f"{message_id}.eml")
        return message_id

    def ids(self) -> list[str]:
        """Every message id, newest first."""
        names = (path.stem for path in self.directory.glob("*.eml"))
        return sorted((name for name in names if _ID.match(name)), reverse=True)

    def get(self, message_id: str) -> StoredMessage | None:
        """A message by id, or None (also for ids that are not ours, e.g. `../x`)."""
        if not _ID.match(message_id):
            return None
        path = self.directory / f"{message_id}.eml"
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        received = datetime.strptime(message_id[:21], "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)
        envelope_to = [
            address.strip().strip("<>")
            for address in str(message.get("X-Envelope-To", "")).split(",")
            if address.strip()
        ]
        return StoredMessage(
            id=message_id,
            received_at=received,
            envelope_from=str(message.get("X-Envelope-From", "")).strip("<>"),
            envelope_to=envelope_to,
            message=message,
        )

    def raw(self, message_id: str) -> bytes | None:
        """The file as stored, or None."""
        if not _ID.match(message_id):
            return None
        path = self.directory / f"{message_id}.eml"
        return path.read_bytes() if path.exists() else None

    def all(self) -> list[StoredMessage]:
        """Every message, newest first."""
        return [m for m in (self.get(i) for i in self.ids()) if m is not None]
