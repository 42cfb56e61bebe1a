"""The raw rate of the SMTP client driven by Celery: one task per e-mail, one worker process,
one SMTP connection kept by that process — the shape of issue #5's reference figure ("about
456 e-mails/s from a Celery task reusing one SMTP connection per worker process").

    python -m bench.emails_celery_task --concurrency 1   # the worker; bench/emails.py starts it

No database, no events, no templates at send time: each worker process renders and builds one
invitation once, and each task sends it with its own `Message-ID` over the process's
aiosmtplib connection, on the process's one event loop. The worker is started as `portail
worker` starts its own (bench/emails.py): the same Celery settings (`create_celery`: late
acknowledgement, prefetch 1), the prefork pool, the same queues and flags.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiosmtplib
from celery import Celery, signals

from services.kit import event_loop
from services.kit.logs import configure_logging
from services.kit.queue import QUEUES, create_celery
from services.kit.settings import load_settings
from services.notifications.config import NotificationsSettings
from services.notifications.emails import render
from services.notifications.models import OutgoingEmail
from services.notifications.smtp import Outgoing, build_message

SEND_TASK = "email.bench_send_prepared"
# The prepared message's Message-ID, replaced in its bytes by each task's own.
PLACEHOLDER = "<bench-placeholder@bench.example.org>"


def prepared_message(settings: NotificationsSettings, recipient: str, message_id: str) -> Outgoing:
    """An invitation of the real size, ready for the wire."""
    rendered = render("invitation", settings=settings, data={}, link="https://x.example.org/a")
    row = OutgoingEmail(
        recipient=recipient, subject=rendered.subject, text_body=rendered.text,
        html_body=rendered.html, language="fr", created_at=datetime.now(UTC),
        message_id=message_id,
    )  # fmt: skip
    return build_message(row, settings)


@dataclass
class _Process:
    """What one worker process keeps from task to task: its loop, connection and message."""

    loop: asyncio.AbstractEventLoop
    client: aiosmtplib.SMTP
    message: Outgoing
    pid: int


_current: _Process | None = None


def _process() -> _Process:
    global _current
    if _current is None or _current.pid != os.getpid():
        settings = load_settings(NotificationsSettings)
        loop = event_loop.new_event_loop()
        client = aiosmtplib.SMTP(hostname=settings.smtp_host, port=settings.smtp_port, timeout=10)
        loop.run_until_complete(client.connect())
        message = prepared_message(settings, "celery-raw@example.org", PLACEHOLDER)
        _current = _Process(loop, client, message, os.getpid())
    return _current


def send_prepared(message_id: str) -> None:
    """Send the process's prepared message under `message_id`, over its connection."""
    current = _process()
    message = current.message
    data = message.data.replace(PLACEHOLDER.encode(), message_id.encode())
    current.loop.run_until_complete(
        current.client.sendmail(message.sender, [message.recipient], data)
    )


@signals.worker_process_init.connect  # type: ignore[untyped-decorator]
def _open(**_: Any) -> None:
    # Connected at the child's start, as the notifications worker opens its runtime.
    _process()


@signals.worker_process_shutdown.connect  # type: ignore[untyped-decorator]
def _close(**_: Any) -> None:
    global _current
    if _current is not None and _current.pid == os.getpid():
        _current.loop.run_until_complete(_current.client.quit())
        _current.loop.close()
        _current = None


def create_app(redis_url: str) -> Celery:
    """The Celery app as `create_worker_app` configures it, with only the bench's task."""
    app = create_celery(redis_url)
    app.conf.worker_redirect_stdouts = False
    app.conf.worker_cancel_long_running_tasks_on_connection_loss = True
    app.task(name=SEND_TASK, acks_late=True, reject_on_worker_lost=True, ignore_result=True)(
        send_prepared
    )
    app.set_current()
    app.set_default()
    return app


def enqueue(app: Celery, message_ids: list[str]) -> float:
    """One task per e-mail on the `email` queue; returns when the first was enqueued."""
    started = time.time()
    for message_id in message_ids:
        app.send_task(SEND_TASK, args=[message_id], queue="email", retry=False)
    return started


def main() -> None:
    """Run the worker (blocks until SIGINT), with `portail worker`'s pool and flags."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()
    level = os.environ.get("LOG_LEVEL", "WARNING")
    configure_logging("worker", level)
    app = create_app(os.environ["REDIS_URL"])
    app.worker_main(
        [
            "worker",
            "--pool=prefork",
            f"--concurrency={args.concurrency}",
            f"--queues={','.join(QUEUES)}",
            f"--loglevel={level}",
            f"--hostname=bench-raw-{os.getpid()}@%h",
            "--without-mingle",
            "--without-gossip",
        ]
    )


if __name__ == "__main__":
    main()
