"""E-mails per second end to end (event on the queue → accepted by the SMTP server) with one
worker, against two raw rates of the SMTP client alone on one persistent connection.

    uv run python -m bench.emails [--emails 2000] [--concurrency 1]

Real processes: a redis-server of its own (empty), PostgreSQL (a fresh `bench_notifications`
database), an SMTP sink (bench/smtp_sink.py) in its own process, and `portail worker
--concurrency N`. The raw rates, measured before and after the end-to-end phase:

- the **bare loop**: this process sends `--emails` messages of the same size over one
  aiosmtplib connection, without Celery;
- the **Celery task**: a worker started like `portail worker` (same broker, pool processes
  and flags; bench/emails_celery_task.py) runs one task per e-mail, each sending a prepared
  message over the connection its process keeps — the shape of issue #5's reference figure.
  Timed from the first task enqueued to the last message accepted by the sink.

Then the end-to-end rate: it publishes `--emails`
`account.invited` events (an invitation each) to the `events` queue, as the outbox relay
publishes them (50 a task); the worker handles each lane's share of a task in one transaction
(claims, addresses, rendered e-mail rows), then sends the e-mails over the lane's connection,
marking each sent after its 250 (docs/notifications.md). The clock runs from the
first event published to the last message accepted by the sink. Lost and duplicated are
counted by `Message-ID`. Each ratio is to the mean of its raw rate's two runs.
`--concurrency` sets the pool processes of both workers.
Writes bench/results/emails.json and prints a Markdown table for docs/performance.md.
"""

from __future__ import annotations

import argparse
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

from services.kit import event_loop
from services.kit.migrations import upgrade
from services.kit.outbox import RELAY_BATCH
from services.kit.queue import create_celery, publish_events
from services.notifications.config import NotificationsSettings
from services.notifications.outgoing import message_id_for

from .emails_celery_task import enqueue, prepared_message
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
    # Built beforehand: this measures the client and the connection alone.
    messages = [
        prepared_message(settings, f"raw-{n}@example.org", message_id_for(f"raw-{n}", 0, DOMAIN))
        for n in range(count)
    ]
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=settings.smtp_port, timeout=10)
    await client.connect()
    started = time.perf_counter()
    for message in messages:
        await client.sendmail(message.sender, [message.recipient], message.data)
    seconds = time.perf_counter() - started
    await client.quit()
    return {"emails": count, "seconds": round(seconds, 3), "per_second": round(count / seconds, 1)}


def wait_for_sink(sink_log: Path, skip: int, count: int, timeout: float) -> None:
    """Until the sink has accepted `count` messages after its first `skip`, or `timeout`."""
    deadline = time.monotonic() + timeout
    while len(sink_lines(sink_log)) - skip < count and time.monotonic() < deadline:
        time.sleep(0.1)


def counted(lines: list[tuple[float, str]], expected: set[str], started: float) -> dict[str, Any]:
    """Rate, lost and duplicated of a phase timed from `started` to its last acceptance."""
    received = Counter(message_id for _, message_id in lines)
    last = max((stamp for stamp, _ in lines), default=started)
    seconds = last - started
    delivered = len(set(received) & expected)
    return {
        "emails": len(expected),
        "seconds": round(seconds, 3),
        "per_second": round(delivered / seconds, 1) if seconds > 0 else 0.0,
        "lost": len(expected - set(received)),
        "duplicated": sum(n - 1 for n in received.values()),
    }


def warm_up(sink_log: Path, send_one: Any) -> int:
    """One message through the whole chain proves the worker ready; the sink's count after it."""
    skip = len(sink_lines(sink_log))
    send_one()
    wait_for_sink(sink_log, skip, 1, 60)
    if len(sink_lines(sink_log)) <= skip:
        raise TimeoutError("worker not ready")
    return len(sink_lines(sink_log))


def celery_task_rate(
    env: dict[str, str], sink_log: Path, log: Path, args: argparse.Namespace, label: str
) -> dict[str, Any]:
    """The SMTP client driven by Celery: one task per e-mail, one connection per process."""
    worker = [sys.executable, "-m", "bench.emails_celery_task"]
    with process([*worker, "--concurrency", str(args.concurrency)], env, log):
        celery = create_celery(env["REDIS_URL"])
        skip = warm_up(sink_log, lambda: enqueue(celery, [f"<warm-up-{label}@{DOMAIN}>"]))
        ids = [message_id_for(f"celery-{label}-{n}", 0, DOMAIN) for n in range(args.emails)]
        if args.prefilled:
            # The worker stops taking from the `email` queue while this process fills it:
            # the producer's CPU is then not in the measured seconds.
            celery.control.cancel_consumer("email", reply=True, timeout=5)
            enqueue(celery, ids)
            started = time.time()
            celery.control.add_consumer("email", reply=True, timeout=5)
            enqueued = 0.0
        else:
            started = enqueue(celery, ids)
            enqueued = time.time() - started
        wait_for_sink(sink_log, skip, args.emails, args.timeout)
        time.sleep(0.5)
        celery.close()
    return {
        **counted(sink_lines(sink_log)[skip:], set(ids), started),
        # Shorter than the phase: the producer is not what limits the rate.
        "enqueue_seconds": round(enqueued, 3),
    }


def end_to_end_rate(
    env: dict[str, str], sink_log: Path, log: Path, args: argparse.Namespace
) -> dict[str, Any]:
    """Events on the queue, handled by `portail worker`, until their e-mails are accepted."""
    worker = [sys.executable, "-m", "portail.cli", "worker"]
    with process([*worker, "--concurrency", str(args.concurrency)], env, log):
        celery = create_celery(env["REDIS_URL"])
        skip = warm_up(sink_log, lambda: publish_events(celery, [invitation(-1)]))
        events = [invitation(n) for n in range(args.emails)]
        expected = {message_id_for(e["id"], 0, DOMAIN) for e in events}
        started = time.time()
        # As the outbox relay publishes them: at most RELAY_BATCH per pass, in batches.
        for start in range(0, len(events), RELAY_BATCH):
            publish_events(celery, events[start : start + RELAY_BATCH])
        published = time.time() - started
        wait_for_sink(sink_log, skip, args.emails, args.timeout)
        time.sleep(2.0)  # late duplicates would show up now
        celery.close()
    return {
        **counted(sink_lines(sink_log)[skip:], expected, started),
        "publish_seconds": round(published, 3),
    }


def mean_rate(*runs: dict[str, Any]) -> float:
    """The mean e-mails per second of a raw rate's runs."""
    return sum(r["per_second"] for r in runs) / len(runs)


def main() -> None:
    """Run the measurements, interleaved, and write the results."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--emails", type=int, default=2000)
    parser.add_argument("--timeout", type=float, default=180.0)
    # One `portail worker`; its pool processes (1: everything in one process).
    parser.add_argument("--concurrency", type=int, default=1)
    # Events each pool process handles at once (NOTIFICATIONS_EVENT_LANES).
    parser.add_argument("--lanes", type=int, default=4)
    # The Celery-task phases time a full queue: tasks enqueued before the worker takes any.
    parser.add_argument("--prefilled", action="store_true")
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
    # The sink keeps appending to its file: each phase counts the lines after its start.
    with (
        process(redis_args, {}, work / "redis.log"),
        process(sink_args, {}, work / "sink.out"),
    ):
        time.sleep(1.0)
        # Each raw rate before and after the end-to-end phase: one run of it lasts a second
        # or two, and the load of those seconds moves it by a factor of two or more
        # (docs/performance.md); each ratio is to the mean of its two runs.
        raw = event_loop.run(raw_rate(settings, args.emails))
        celery_raw = celery_task_rate(env, sink_log, work / "celery-before.log", args, "before")
        end_to_end = end_to_end_rate(env, sink_log, work / "worker.log", args)
        celery_after = celery_task_rate(env, sink_log, work / "celery-after.log", args, "after")
        raw_after = event_loop.run(raw_rate(settings, args.emails))
    e2e = end_to_end["per_second"]
    result = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "event_loop": event_loop.chosen_loop(),
        },
        "order": "bare loop, Celery task, end to end, Celery task, bare loop",
        "raw_smtp_client": raw,
        "raw_smtp_client_after": raw_after,
        "raw_smtp_client_celery_task": celery_raw,
        "raw_smtp_client_celery_task_after": celery_after,
        "celery_task_queue_prefilled": args.prefilled,
        "worker_pool_processes": args.concurrency,
        "lanes_per_process": args.lanes,
        "load_average_at_end": os.getloadavg()[0],
        "end_to_end_one_worker": end_to_end,
        # Issue #5's reference: "a Celery task reusing one SMTP connection per worker process".
        "ratio_to_celery_task": round(e2e / mean_rate(celery_raw, celery_after), 2),
        # Stricter: the client without Celery.
        "ratio_to_bare_loop": round(e2e / mean_rate(raw, raw_after), 2),
        "ratio_to_each_raw_run": {
            "celery_task": [round(e2e / r["per_second"], 2) for r in (celery_raw, celery_after)],
            "bare_loop": [round(e2e / r["per_second"], 2) for r in (raw, raw_after)],
        },
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "emails.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print()
    print("| measure | e-mails | seconds | e-mails/s | lost | duplicated |")
    print("|---|---|---|---|---|---|")
    rows = [
        ("SMTP client alone, bare loop, before", raw),
        ("SMTP client alone, Celery task, before", celery_raw),
        ("end to end, one worker", end_to_end),
        ("SMTP client alone, Celery task, after", celery_after),
        ("SMTP client alone, bare loop, after", raw_after),
    ]
    for label, r in rows:
        print(
            f"| {label} | {r['emails']} | {r['seconds']} | {r['per_second']} "
            f"| {r.get('lost', '')} | {r.get('duplicated', '')} |"
        )
    print(f"| ratio to the Celery task (mean) | | | {result['ratio_to_celery_task']} | | |")
    print(f"| ratio to the bare loop (mean) | | | {result['ratio_to_bare_loop']} | | |")


if __name__ == "__main__":
    main()
