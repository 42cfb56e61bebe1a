"""`portail run`: the whole portal on one machine, started in order and stopped in reverse.

Order: Redis, S3 and the SMTP catcher; migrations; demo data; the services; the gateway;
the worker and beat. Each step waits until what it started is ready. Ctrl-C (SIGINT) or
SIGTERM stops everything the launcher started; so does any child that dies on its own,
rather than leave half a portal running.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Callable

from .layout import S3_ACCESS_KEY_ID, S3_BUCKET, S3_REGION, S3_SECRET_ACCESS_KEY
from .plan import MissingTool, Portal
from .ports import PortInUse, check_ports_free
from .seeding import seeded_services
from .state import write_state
from .summary import render_summary
from .supervisor import Child, Supervisor, run_supervised

Report = Callable[[str], None]


def available_commands() -> set[str]:
    """The sub-commands `portail` has in this checkout (`worker` and `beat` come later)."""
    from ..cli import build_parser

    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def ensure_bucket(portal: Portal) -> None:
    """Create the dev bucket on the S3 endpoint once (boto3, as the services will use it)."""
    import boto3
    from botocore.exceptions import ClientError

    client = boto3.client(
        "s3",
        endpoint_url=portal.s3_endpoint,
        aws_access_key_id=S3_ACCESS_KEY_ID,
        aws_secret_access_key=S3_SECRET_ACCESS_KEY,
        region_name=S3_REGION,
    )
    try:
        client.head_bucket(Bucket=S3_BUCKET)
    except ClientError:
        client.create_bucket(
            Bucket=S3_BUCKET, CreateBucketConfiguration={"LocationConstraint": S3_REGION}
        )


async def _start_everything(
    portal: Portal, supervisor: Supervisor, commands: set[str], report: Report
) -> dict[str, list[str]]:
    present = portal.present_services()
    seeded = [name for name in seeded_services() if name in present]
    report("→ Redis, S3, SMTP ; migrations et données de démo / migrations and demo data …")
    # The databases are SQLite files: migrating and seeding need none of the infrastructure,
    # so both run while Redis, S3 and the SMTP catcher get ready.
    infrastructure = await supervisor.spawn_batch(portal.infrastructure())
    await asyncio.gather(
        supervisor.wait_ready(infrastructure),
        supervisor.run_once(portal.prepare(present, seeded)),
    )
    await asyncio.to_thread(ensure_bucket, portal)
    notes = read_seed_notes(portal)

    # Started together (the machine has few cores: overlapping their imports saves seconds),
    # recorded as three batches so that the queue, then the gateway, then the services stop.
    queue = portal.queue(commands)
    names = [*present, *(["gateway"] if portal.has_gateway() else []), *(s.name for s in queue)]
    report("→ " + ", ".join(names))
    await supervisor.start_batches([portal.services(), portal.gateway(), queue])
    return notes


def read_seed_notes(portal: Portal) -> dict[str, list[str]]:
    """What the seeds said (service → lines), as `prepare` wrote it."""
    try:
        notes = json.loads(portal.layout.seed_notes.read_text())
    except (OSError, ValueError):
        return {}
    return notes if isinstance(notes, dict) else {}


async def run_portal(portal: Portal, *, report: Report = print, stop_timeout: float = 10.0) -> int:
    """Start the portal and keep it running until asked to stop; 0 after a requested stop."""
    try:
        check_ports_free(portal.ports_wanted())
        portal.infrastructure()  # finds redis-server, or says how to get it
    except (PortInUse, MissingTool) as exc:
        report(str(exc))
        return 2
    commands = available_commands()
    portal.layout.create()
    portal.layout.seed_notes.unlink(missing_ok=True)
    began = time.monotonic()
    supervisor = Supervisor(report=report, stop_timeout=stop_timeout)

    def on_ready(notes: dict[str, list[str]]) -> None:
        write_state(portal.layout.state_file, supervisor.children)
        summary = render_summary(
            portal,
            supervisor.children,
            notes=notes,
            elapsed=time.monotonic() - began,
        )
        report(summary)

    def on_restarted(_child: Child) -> None:
        # `portail status` must show the new pid, not the dead one's.
        write_state(portal.layout.state_file, supervisor.children)

    try:
        return await run_supervised(
            supervisor,
            lambda: _start_everything(portal, supervisor, commands, report),
            on_ready,
            on_restarted,
        )
    finally:
        portal.layout.state_file.unlink(missing_ok=True)
