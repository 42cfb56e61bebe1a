"""E-mails per second end to end (event on the queue → accepted by the SMTP server) with one
worker, against the raw rate of the SMTP client alone on one persistent connection.

    uv run python -m bench.emails [--emails 2000] [--concurrency 1]

Real processes: a redis-server of its own (empty), PostgreSQL (a fresh `bench_notifications`
database), an SMTP sink (bench/smtp_sink.py) in its own process, and `portail worker
--concurrency N`. First the raw rate: this process sends `--emails` messages of the same
size over one aiosmtplib connection. Then the end-to-end rate: it publishes `--emails`
`account.invited` events (an invitation each) to the `events` queue, as the outbox relay
publishes them (50 a task); the worker handles each lane's share of a task in one transaction
(claims, addresses, rendered e-mail rows), then sends the e-mails over the lane's connection,
marking each sent after its 250 (docs/notifications.md). The clock runs from the
first event published to the last message accepted by the sink. Lost and duplicated are
counted by `Message-ID`. Then the raw rate once more: the ratio is to the mean of both.
`--concurrency` sets the worker's pool processes.
Writes bench/results/emails.json and prints a Markdown table for docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosmtplib

from services.kit.migrations import upgrade
from services.kit.outbox import RELAY_BATCH
from services.kit.queue import create_celery, publish_events
from services.notifications.config import NotificationsSettings
from services.notifications.emails import render
from services.notifications.models import OutgoingEmail
from services.notifications.outgoing import message_id_for
from services.notifications.smtp import build_message

from .harness import RESULTS, free_port, process, recreate_database, run_async

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = "bench.example.org"


def invitation(n: int) -> dict[str, Any]:
    """An `account.invited` envelope as auth writes it."""
    family_id = str(uuid.uuid4())
    return {
        "id": str(uuid.uuid4()),
        "type": "account.invited",
        "source": "auth",
        "occurred_at": datetime.now(UTC).isoformat(),
        "family_id": family_id,
        "request_id": None,
        "data": {
            "account_id": str(uuid.uuid4()),
            "family_ids": [family_id],
            "email": f"bench-{n}@example.org",
            "kind": "family",
            "link": f"https://portail.example.org/premiere-connexion?jeton={uuid.uuid4().hex}",
            "expires_at": "2026-12-05T10:00:00+00:00",
            "resent": False,
        },
    }


def sink_lines(path: Path) -> list[tuple[float, str]]:
    """(time, Message-ID) of every message the sink accepted."""
    if not path.exists():
        return []
    lines = []
    for line in path.read_text().replace("\x00", "").splitlines():
        stamp, _, message_id = line.partition(" ")
        if message_id:
            lines.append((float(stamp), message_id))
    return lines


async def raw_rate(settings: NotificationsSettings, count: int) -> dict[str, Any]:
    """The SMTP client alone: `count` messages of the real size over one connection."""
    rendered = render("invitation", settings=settings, data={}, link="https://x.example.org/a")
    now = datetime.now(UTC)
    # Built beforehand: this measures the client and the connection alone.
    messages = [
        build_message(
            OutgoingEmail(
                recipient=f"raw-{n}@example.org", subject=rendered.subject,
                text_body=rendered.text, html_body=rendered.html, language="fr",
                created_at=now, message_id=message_id_for(f"raw-{n}", 0, DOMAIN),
            ),
            settings,
        )
        for n in range(count)
    ]  # fmt: skip
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=settings.smtp_port, timeout=10)
    await client.connect()
    started = time.perf_counter()
    for message in messages:
        await client.sendmail(message.sender, [message.recipient], message.data)
    seconds = time.perf_counter() - started
    await client.quit()
    return {"emails": count, "seconds": round(seconds, 3), "per_second": round(count / seconds, 1)}


def main() -> None:
    """Run both measurements and write the results."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--emails", type=int, default=2000)
    parser.add_argument("--timeout", type=float, default=180.0)
    # One `portail worker`; its pool processes (1: everything in one process).
    parser.add_argument("--concurrency", type=int, default=1)
    # Events each pool process handles at once (NOTIFICATIONS_EVENT_LANES).
    parser.add_argument("--lanes", type=int, default=4)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.queue.processes import redis_server_binary

    work = Path(tempfile.mkdtemp(prefix="bench-emails-"))
    print("logs in", work)
    database_url = run_async(recreate_database("bench_notifications"))
    upgrade(ROOT / "services" / "notifications" / "migrations", database_url)
    redis_port, smtp_port = free_port(), free_port()
    sink_log = work / "sink.log"
    env = {
        "PORTAIL_PROFILE": "test",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "NOTIFICATIONS_DATABASE_URL": database_url,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SMTP_FROM": f"Mairie <ne-pas-repondre@{DOMAIN}>",
        "PUBLIC_BASE_URL": "https://portail.example.org",
        "LOG_LEVEL": os.environ.get("BENCH_WORKER_LOG_LEVEL", "WARNING"),
        "NOTIFICATIONS_EVENT_LANES": str(args.lanes),
    }
    settings = NotificationsSettings(
        PORTAIL_PROFILE="test", SMTP_PORT=smtp_port, SMTP_FROM=f"Mairie <x@{DOMAIN}>"
    )
    redis_args = [
        redis_server_binary(),
        "--port",
        str(redis_port),
        "--save",
        "",
        "--appendonly",
        "no",
    ]
    sink_args = [sys.executable, "-m", "bench.smtp_sink", "--port", str(smtp_port)]
    sink_args += ["--out", str(sink_log)]
    with (
        process(redis_args, {}, work / "redis.log"),
        process(sink_args, {}, work / "sink.out"),
    ):
        time.sleep(1.0)
        raw = asyncio.run(raw_rate(settings, args.emails))
        # The sink keeps appending to its file: each phase counts the lines after its start.
        skip = len(sink_lines(sink_log))
        with process(
            [sys.executable, "-m", "portail.cli", "worker", "--concurrency", str(args.concurrency)],
            env,
            work / "worker.log",
        ):
            celery = create_celery(env["REDIS_URL"])
            # Warm-up: one e-mail through the whole chain proves the worker is ready.
            publish_events(celery, [invitation(-1)])
            deadline = time.monotonic() + 60
            while len(sink_lines(sink_log)) <= skip:
                if time.monotonic() > deadline:
                    raise TimeoutError("worker not ready")
                time.sleep(0.1)
            skip = len(sink_lines(sink_log))
            events = [invitation(n) for n in range(args.emails)]
            expected = {message_id_for(e["id"], 0, DOMAIN) for e in events}
            started = time.time()
            # As the outbox relay publishes them: at most RELAY_BATCH per pass, in batches.
            for start in range(0, len(events), RELAY_BATCH):
                publish_events(celery, events[start : start + RELAY_BATCH])
            published = time.time() - started
            deadline = time.monotonic() + args.timeout
            while len(sink_lines(sink_log)) - skip < args.emails and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(2.0)  # late duplicates would show up now
            celery.close()
        lines = sink_lines(sink_log)[skip:]
        # The raw rate again: one run of it lasts about a second, and the load of that second
        # moves it by a factor of two or more (docs/performance.md); the ratio is to the mean.
        raw_after = asyncio.run(raw_rate(settings, args.emails))
    received = Counter(message_id for _, message_id in lines)
    last = max((stamp for stamp, _ in lines), default=started)
    seconds = last - started
    end_to_end = {
        "emails": args.emails,
        "seconds": round(seconds, 3),
        "per_second": round(len(set(received) & expected) / seconds, 1) if seconds > 0 else 0.0,
        "publish_seconds": round(published, 3),
        "lost": len(expected - set(received)),
        "duplicated": sum(n - 1 for n in received.values()),
    }
    raw_mean = (raw["per_second"] + raw_after["per_second"]) / 2
    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "raw_smtp_client": raw,
        "raw_smtp_client_after": raw_after,
        "worker_pool_processes": args.concurrency,
        "lanes_per_process": args.lanes,
        "load_average_at_end": os.getloadavg()[0],
        "end_to_end_one_worker": end_to_end,
        "ratio": round(end_to_end["per_second"] / raw_mean, 2),
        "ratio_to_each_raw_run": [
            round(end_to_end["per_second"] / r["per_second"], 2) for r in (raw, raw_after)
        ],
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "emails.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print()
    print("| measure | e-mails | seconds | e-mails/s | lost | duplicated |")
    print("|---|---|---|---|---|---|")
    e2e = end_to_end
    for label, r in (("before", raw), ("after", raw_after)):
        print(
            f"| SMTP client alone, {label} | {r['emails']} | {r['seconds']} | {r['per_second']}"
            " | | |"
        )
    print(
        f"| end to end, one worker | {e2e['emails']} | {e2e['seconds']} | {e2e['per_second']} "
        f"| {e2e['lost']} | {e2e['duplicated']} |"
    )
    print(f"| ratio (to the raw runs' mean) | | | {result['ratio']} | | |")


if __name__ == "__main__":
    main()
