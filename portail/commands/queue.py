"""`portail worker` and `portail beat`: the Celery processes of the queue."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from services.kit.logs import configure_logging
from services.kit.settings import load_settings

from ..worker import WorkerSettings, create_worker_app


def _worker(args: argparse.Namespace) -> int:
    settings = load_settings(WorkerSettings)
    configure_logging("worker", settings.log_level)
    app = create_worker_app(settings)
    concurrency = args.concurrency or settings.concurrency
    queues = args.queues or settings.queues
    app.worker_main(
        [
            "worker",
            # prefork: a task that hangs or leaks is isolated in its child, and a child killed
            # mid-task gives its task back (task_reject_on_worker_lost).
            "--pool=prefork",
            f"--concurrency={concurrency}",
            f"--queues={queues}",
            f"--loglevel={args.loglevel or settings.log_level}",
            f"--hostname=worker-{os.getpid()}@%h",
            # No broadcast chatter between workers: nothing here uses it, and mingle delays start.
            "--without-mingle",
            "--without-gossip",
        ]
    )
    return 0


def _beat(args: argparse.Namespace) -> int:
    settings = load_settings(WorkerSettings)
    configure_logging("beat", settings.log_level)
    app = create_worker_app(settings)
    schedule_file = Path(args.schedule_file or settings.beat_schedule_file)
    schedule_file.parent.mkdir(parents=True, exist_ok=True)
    app.start(
        [
            "beat",
            f"--schedule={schedule_file}",
            f"--loglevel={args.loglevel or settings.log_level}",
        ]
    )
    return 0


def register(commands: Any) -> None:
    """Add the queue commands."""
    worker = commands.add_parser(
        "worker", help="run a Celery worker for every service's tasks (queues events,email,billing)"
    )
    worker.add_argument(
        "-c", "--concurrency", type=int, default=0, help="processes (default: WORKER_CONCURRENCY)"
    )
    worker.add_argument("-Q", "--queues", default="", help="comma-separated (default: all)")
    worker.add_argument("--loglevel", default="", help="default: LOG_LEVEL")
    worker.set_defaults(handler=_worker)

    beat = commands.add_parser("beat", help="run Celery beat (heartbeat, nightly purges)")
    beat.add_argument("--schedule-file", default="", help="default: WORKER_BEAT_SCHEDULE_FILE")
    beat.add_argument("--loglevel", default="", help="default: LOG_LEVEL")
    beat.set_defaults(handler=_beat)
