"""A real SMTP server for tests (aiosmtpd on a random port), counting what it accepted.

It runs in a thread of the test process; it can answer a chosen reply instead of 250
(`refuse_with`), be stopped (connections refused) and started again on the same port.
"""

from __future__ import annotations

import email
import email.policy
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.support import free_port


@dataclass
class Inbox:
    """What the server accepted, and what it answers now."""

    messages: list[EmailMessage] = field(default_factory=list)
    # None: accept (250). Else the reply to DATA, e.g. "451 4.3.0 try later".
    refuse_with: str | None = None
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:
        """aiosmtpd's hook: keep the message, or answer the configured refusal."""
        if self.refuse_with is not None:
            with self.lock:
                self.refused += 1
            return self.refuse_with
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"

    def message_ids(self) -> Counter[str]:
        """How many messages arrived with each Message-ID."""
        with self.lock:
            return Counter(str(m["Message-ID"]) for m in self.messages)

    def to(self, address: str) -> list[EmailMessage]:
        """The messages addressed to `address`."""
        with self.lock:
            return [m for m in self.messages if address in str(m["To"])]

    def wait_for(self, count: int, *, timeout: float = 10.0) -> list[EmailMessage]:
        """Wait until at least `count` messages arrived (bounded); returns them all."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.05)
        with self.lock:
            raise TimeoutError(f"{len(self.messages)} of {count} messages within {timeout} s")

    def clear(self) -> None:
        """Forget what arrived."""
        with self.lock:
            self.messages.clear()
            self.refused = 0


class SmtpServer:
    """aiosmtpd's controller on 127.0.0.1 and a port of its own."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.inbox = Inbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        """Listen (again) on the same port."""
        controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        """Stop listening: connections are refused until `start`."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def settings(self) -> dict[str, Any]:
        """The notifications settings that point at it."""
        return {"smtp_host": "127.0.0.1", "smtp_port": self.port}
