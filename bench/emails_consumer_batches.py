"""The consumer's cost per event, one transaction per event against several events per
transaction: how much batching the events side could gain (docs/performance.md, e-mails).

    uv run python -m bench.emails_consumer_batches [--events 400] [--batch 50]

In this process, without Celery, broker or SMTP: `service.handle_event` on `account.invited`
events (claim, journal, address book, rendered e-mail row) against a fresh PostgreSQL
database, first one transaction per event (what `events.deliver` does), then `--batch`
events per transaction, each in a savepoint (what a batch consumer would need so that one
bad event does not undo the others). Wall and CPU time per event; both runs twice,
interleaved. Writes bench/results/emails_consumer_batches.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

from services.kit.database import Database
from services.kit.migrations import upgrade
from services.notifications import service
from services.notifications.config import NotificationsSettings

from .emails import invitation
from .harness import RESULTS, recreate_database, run_async

ROOT = Path(__file__).resolve().parent.parent


async def per_event(
    database: Database, settings: NotificationsSettings, count: int, batch: int
) -> dict[str, Any]:
    """Handle `count` fresh events, `batch` per transaction; milliseconds per event."""
    events = [invitation(n) for n in range(count)]
    wall, cpu = time.perf_counter(), time.process_time()
    for start in range(0, count, batch):
        async with database.transaction() as session:
            for raw in events[start : start + batch]:
                if batch == 1:
                    await service.handle_event(session, raw=raw, settings=settings)
                    continue
                async with session.begin_nested():
                    await service.handle_event(session, raw=raw, settings=settings)
    return {
        "events_per_transaction": batch,
        "wall_ms_per_event": round((time.perf_counter() - wall) / count * 1000, 2),
        "cpu_ms_per_event": round((time.process_time() - cpu) / count * 1000, 2),
    }


async def measure(url: str, count: int, batch: int) -> list[dict[str, Any]]:
    """Both groupings, twice, interleaved."""
    settings = NotificationsSettings(
        PORTAIL_PROFILE="test",
        NOTIFICATIONS_DATABASE_URL=url,
        SMTP_FROM="Mairie <ne-pas-repondre@bench.example.org>",
    )
    # As in the worker: a small pool, no ping before each transaction.
    database = Database(url, pool_size=2, pre_ping=False)
    try:
        return [await per_event(database, settings, count, size) for size in (1, batch, 1, batch)]
    finally:
        await database.dispose()


def main() -> None:
    """Run and write the results."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args()
    url = run_async(recreate_database("bench_notifications"))
    upgrade(ROOT / "services" / "notifications" / "migrations", url)
    runs = asyncio.run(measure(url, args.events, args.batch))
    result = {"events": args.events, "load_average_at_end": os.getloadavg()[0], "runs": runs}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "emails_consumer_batches.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
