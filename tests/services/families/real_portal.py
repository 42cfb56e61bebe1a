"""The whole portal of a change request, with no stand-in: what the proof of issue #4 drives.

Real auth service (invitations, passwords, staff TOTP), real families service, real
notifications service, all on this run's PostgreSQL; the real gateway in front; a real
`portail worker` process consuming the events every relay publishes on this run's Redis
index; a real SMTP server (aiosmtpd) receiving what the worker sends.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import redis

from services.kit.queue import QUEUES
from services.kit.testing import TestSigner
from tests import support
from tests.queue.conftest import create_migrated_database
from tests.queue.processes import ProcessSet, python
from tests.services.notifications.smtp_server import SmtpServer

# What auth and notifications build e-mail links from (the test gateway has its own address).
PUBLIC_BASE_URL = "https://portail.example.org"
SMTP_FROM = "Mairie de Hasparren <ne-pas-repondre@hasparren.example.org>"
PASSWORD = "une phrase de passe de parent assez longue"
STAFF_PASSWORD = "une phrase de passe d'agent assez longue"
# Bounds of the waits on other processes: a loaded 2-core machine, not a speed requirement.
WORKER_START_WITHIN = 90.0
MAIL_WITHIN = 60.0


def combined_jwks(*documents: dict[str, Any]) -> str:
    """One JWKS trusting the real auth's keys and the test signer's (setup calls as staff)."""
    return json.dumps({"keys": [key for document in documents for key in document["keys"]]})


async def start_worker(processes: ProcessSet, smtp: SmtpServer, notifications_db: str) -> None:
    """`portail worker` on this run's Redis index and notifications database; waits until ready."""
    processes.start(
        "worker",
        python("-m", "portail.cli", "worker", "--concurrency", "1"),
        {
            "PORTAIL_PROFILE": "test",
            "REDIS_URL": support.redis_url(),
            "NOTIFICATIONS_DATABASE_URL": notifications_db,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp.port),
            "SMTP_FROM": SMTP_FROM,
            "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "LOG_LEVEL": "INFO",
        },
    )
    started = time.monotonic()
    while " ready." not in processes.log("worker"):
        if time.monotonic() - started > WORKER_START_WITHIN:
            raise TimeoutError(f"the worker did not start:\n{processes.log('worker')}")
        await asyncio.sleep(0.2)  # the services' relays keep running meanwhile


def empty_queues() -> None:
    """Drop the tasks earlier tests left on this run's index (no worker ran for them): the
    worker starts on this test's events only. Other keys (sessions, limits) stay."""
    client = redis.Redis.from_url(support.redis_url())
    try:
        client.delete(*QUEUES)
    finally:
        client.close()


async def fresh_databases(label: str) -> dict[str, str]:
    """New, migrated auth, families and notifications databases for one test: no outbox rows
    of earlier tests for the relays to publish again, no accounts or e-mails but this test's."""
    return {
        name: await create_migrated_database(f"{label}_{name}", name)
        for name in ("auth", "families", "notifications")
    }


async def drop_databases(label: str) -> None:
    """Drop what `fresh_databases(label)` created."""
    for name in ("auth", "families", "notifications"):
        await support.drop_database(support.database_name(f"{label}_{name}"))


def text_of(message: EmailMessage) -> str:
    """The plain-text part of an e-mail."""
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, "no text part"
    return str(part.get_content())


def html_of(message: EmailMessage) -> str:
    """The HTML part of an e-mail."""
    part = message.get_body(preferencelist=("html",))
    assert part is not None, "no HTML part"
    return str(part.get_content())


def link_in(message: EmailMessage, path: str) -> str:
    """The path and query of the portal link to `path` in an e-mail's text."""
    found = re.search(rf"{re.escape(PUBLIC_BASE_URL)}({re.escape(path)}[^\s]*)", text_of(message))
    assert found, text_of(message)
    return found.group(1)


@dataclass
class RealPortal:
    """The gateway's address, the services behind it, the SMTP server and the worker's log."""

    base_url: str
    smtp: SmtpServer
    processes: ProcessSet
    auth: Any
    families: Any
    signer: TestSigner
    family: dict[str, Any]
    parent_email: str
    staff_email: str
    log_dir: Path

    async def mail(self, to: str, subject: str) -> EmailMessage:
        """The first e-mail to `to` with `subject`, waiting for the worker to send it."""
        started = time.monotonic()
        while True:
            found = [m for m in self.smtp.inbox.to(to) if m["Subject"] == subject]
            if found:
                return found[0]
            if time.monotonic() - started > MAIL_WITHIN:
                subjects = [str(m["Subject"]) for m in self.smtp.inbox.to(to)]
                raise TimeoutError(
                    f"no « {subject} » to {to} (got {subjects})\n{self.processes.log('worker')}"
                )
            await asyncio.sleep(0.1)
