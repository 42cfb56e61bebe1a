"""The notifications worker's own cost per e-mail: its CPU and wall time, without Celery.

    uv run python -m bench.emails_worker [--emails 1000] [--lanes 4]

Real parts: a fresh PostgreSQL database (`bench_notifications_worker`), the SMTP sink
(bench/smtp_sink.py) and a redis-server of its own (the acknowledgements), each in its own
process. This process runs one `ConsumerRuntime` and hands it
`account.invited` events in tasks of 50, as `events.deliver_many` would, after a warm-up;
`time.process_time` gives the worker's CPU (the sink's and PostgreSQL's are not in it).
bench/emails.py measures the whole chain.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from services.kit.migrations import upgrade

from .emails import invitation
from .harness import free_port, process, recreate_database, run_async

ROOT = Path(__file__).resolve().parent.parent
TASK_SIZE = 50


def main() -> None:
    """Measure and print one line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--emails", type=int, default=1000)
    parser.add_argument("--lanes", type=int, default=4)
    args = parser.parse_args()
    database_url = run_async(recreate_database("bench_notifications_worker"))
    upgrade(ROOT / "services" / "notifications" / "migrations", database_url)
    sys.path.insert(0, str(ROOT))
    from tests.queue.processes import redis_server_binary

    port, redis_port = free_port(), free_port()
    work = Path(tempfile.mkdtemp(prefix="bench-emails-worker-"))
    sink_log = work / "sink.log"
    sink_args = [sys.executable, "-m", "bench.smtp_sink", "--port", str(port)]
    redis_args = [redis_server_binary(), "--port", str(redis_port), "--save", ""]
    with (
        process([*redis_args, "--appendonly", "no"], {}, work / "redis.log"),
        process([*sink_args, "--out", str(sink_log)], {}, work / "sink.out"),
    ):
        time.sleep(1.0)
        measure(args, database_url, port, redis_port, sink_log)


def measure(
    args: argparse.Namespace, database_url: str, port: int, redis_port: int, sink_log: Path
) -> None:
    """Run the events through one runtime and print the figures."""
    os.environ.update(
        {
            "PORTAIL_PROFILE": "test",
            "NOTIFICATIONS_DATABASE_URL": database_url,
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(port),
            "SMTP_FROM": "Mairie <ne-pas-repondre@bench.example.org>",
            "NOTIFICATIONS_EVENT_LANES": str(args.lanes),
        }
    )
    # Imported once the environment names this run's database and sink.
    from services.kit.logs import configure_logging
    from services.kit.settings import load_settings
    from services.notifications import tasks
    from services.notifications.config import NotificationsSettings

    configure_logging("worker", "WARNING")
    current = tasks.ConsumerRuntime(load_settings(NotificationsSettings))

    def run(events: list[dict[str, object]]) -> None:
        for start in range(0, len(events), TASK_SIZE):
            current.run(tasks.deliver_many_async(current, events[start : start + TASK_SIZE]))

    try:
        run([invitation(-n - 1) for n in range(100)])  # warm-up: connections, templates
        events = [invitation(n) for n in range(args.emails)]
        wall, cpu = time.perf_counter(), time.process_time()
        run(events)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        current.close()
    sent = len(sink_log.read_text().splitlines()) - 100
    print(
        f"{sent} e-mails accepted by the sink, {args.lanes} lanes: {sent / wall:.0f}/s, "
        f"wall {1000 * wall / args.emails:.2f} ms and worker CPU {1000 * cpu / args.emails:.2f} ms"
        f" an e-mail, load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
