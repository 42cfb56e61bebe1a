"""The queue's promise under chaos: every committed event reaches the consumer exactly once,
and every decision that calls for an e-mail gives exactly one e-mail at the SMTP server.

Real processes only: our own redis-server, the families service producing `family.created`
events through its outbox relayed as deployed (a process of its own, `portail outbox-relay
families`, woken by NOTIFY, polling only every 5 s), the auth service producing
`account.invited` (an invitation: a decision that sends an e-mail) through its outbox
relayed in its own process (as in the dev profile), `portail worker` consuming them into the
notifications
journal and sending the e-mails, the notifications service whose relay re-enqueues e-mails
still pending, and a real SMTP server (aiosmtpd) counting messages by `Message-ID`. During
the run the worker is killed with SIGKILL (a new one takes over) and Redis is killed and
restarted empty. At the end, 300 families must give 300 journal lines and 300 invitations
300 e-mails: none missing, none twice.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from services.kit.testing import TestSigner

from .. import support
from ..services.notifications.smtp_server import SmtpServer
from .conftest import create_migrated_database
from .processes import ProcessSet, RedisServer, eventually, free_port, python, wait_until

pytestmark = pytest.mark.chaos

EVENTS = 300
# The worker killed mid-run has this many pool processes, each with this many events (hence
# e-mails) in flight at once.
KILLED_POOL_PROCESSES = 2
LANES = 4
BURSTS = 3
BURST_SIZE = EVENTS // BURSTS
CONCURRENT_REQUESTS = 10
KILL_WORKER_AFTER_BURST = 0
RESTART_REDIS_AFTER_BURST = 1
REPUBLISH_AFTER_SECONDS = 2
# Twice the work of the journal-only version (invitations and their e-mails too): on this
# 2-core machine shared with other test runs, 60 s was once not enough to drain it (28 events
# still on their way, none lost); the assertions below are unchanged.
CONVERGE_WITHIN_SECONDS = 100
KEY_ENCRYPTION_KEY = "chaos-test-key-encryption-key-0123456789"
MAIL_DOMAIN = "chaos.example.org"


def base_url_of(port: int) -> str:
    """The address of a process of this test listening on `port`."""
    return f"http://127.0.0.1:{port}"


def plain_url(url: str) -> str:
    """asyncpg's form of a SQLAlchemy URL."""
    return url.replace("postgresql+asyncpg://", "postgresql://")


@pytest.fixture
async def chaos_databases() -> AsyncIterator[dict[str, str]]:
    """Fresh families, auth and notifications databases for this test only."""
    urls = {
        "families": await create_migrated_database("chaos_families", "families"),
        "auth": await create_migrated_database("chaos_auth", "auth"),
        "notifications": await create_migrated_database("chaos_notifications", "notifications"),
    }
    try:
        yield urls
    finally:
        for label in ("chaos_families", "chaos_auth", "chaos_notifications"):
            await support.drop_database(support.database_name(label))


async def gather_limited(calls: Iterable[Awaitable[None]], *, limit: int) -> None:
    """Await `calls` with at most `limit` running at once."""
    gate = asyncio.Semaphore(limit)

    async def gated(call: Awaitable[None]) -> None:
        async with gate:
            await call

    await asyncio.gather(*(gated(call) for call in calls))


async def fetch(url: str, query: str) -> list[asyncpg.Record]:
    """Run one query on a database of this test."""
    connection = await asyncpg.connect(plain_url(url))
    try:
        return await connection.fetch(query)
    finally:
        await connection.close()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server in this process, on a random port."""
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.timeout(180)
async def test_every_event_reaches_the_journal_and_every_invitation_the_smtp_server_exactly_once(
    chaos_databases: dict[str, str],
    processes: ProcessSet,
    signer: TestSigner,
    smtp_server: SmtpServer,
    record_property: Any,
    tmp_path: Path,
) -> None:
    broker = RedisServer(processes)
    broker.start()
    common = {
        "PORTAIL_PROFILE": "test",
        "REDIS_URL": broker.url,
        "JWKS_JSON": json.dumps(signer.jwks),
        "LOG_LEVEL": "INFO",
        "PUBLIC_BASE_URL": "https://portail.example.org",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_server.port),
        "SMTP_FROM": f"Mairie <ne-pas-repondre@{MAIL_DOMAIN}>",
        "OUTBOX_RELAY_INTERVAL": "0.2",
        "OUTBOX_REPUBLISH_AFTER": str(REPUBLISH_AFTER_SECONDS),
    }
    port, auth_port, notifications_port = free_port(), free_port(), free_port()
    gateway_port = free_port()
    families_env = {
        **common,
        "LOG_LEVEL": "WARNING",
        "FAMILIES_DATABASE_URL": chaos_databases["families"],
        "OUTBOX_RELAY_IN_PROCESS": "false",
    }
    processes.start(
        "families",
        python("-m", "services.families.app"),
        {**families_env, "FAMILIES_HOST": "127.0.0.1", "FAMILIES_PORT": str(port)},
    )
    # As deployed: the relay apart, woken by the commits' NOTIFY; its poll only a safety net.
    processes.start(
        "families-relay",
        python("-m", "portail.cli", "outbox-relay", "families"),
        {**families_env, "OUTBOX_RELAY_INTERVAL": "5", "LOG_LEVEL": "INFO"},
    )
    # Auth asks the families service, through the gateway, whether each family exists
    # before inviting; the run's 300 checks come with one token, past the default bucket.
    limits = tmp_path / "rate_limits.yaml"
    limits.write_text(
        "buckets:\n  default: {window: 60, per_ip: 100000, per_identity: 100000,"
        " fail_open: true}\nrules: []\n"
    )
    processes.start(
        "gateway",
        python("-m", "gateway.app"),
        {
            **common,
            "LOG_LEVEL": "WARNING",
            "GATEWAY_HOST": "127.0.0.1",
            "GATEWAY_PORT": str(gateway_port),
            "GATEWAY_RATE_LIMITS_FILE": str(limits),
            "FAMILIES_SERVICE_URL": base_url_of(port),
        },
    )
    processes.start(
        "auth",
        python("-m", "services.auth.app"),
        {
            **common,
            "LOG_LEVEL": "WARNING",
            "GATEWAY_URL": base_url_of(gateway_port),
            "AUTH_HOST": "127.0.0.1",
            "AUTH_PORT": str(auth_port),
            "AUTH_DATABASE_URL": chaos_databases["auth"],
            "AUTH_KEY_ENCRYPTION_KEY": KEY_ENCRYPTION_KEY,
        },
    )
    notifications_env = {
        **common,
        "NOTIFICATIONS_DATABASE_URL": chaos_databases["notifications"],
        # The e-mail relay: what re-enqueues e-mails whose send task Redis or a kill lost.
        "NOTIFICATIONS_EMAIL_RELAY_INTERVAL_SECONDS": "0.2",
        "NOTIFICATIONS_EMAIL_REQUEUE_AFTER_SECONDS": str(REPUBLISH_AFTER_SECONDS),
        "NOTIFICATIONS_EMAIL_RETRY_BASE_SECONDS": "0.5",
        "NOTIFICATIONS_EMAIL_RETRY_MAX_SECONDS": "2",
    }
    processes.start(
        "notifications",
        python("-m", "services.notifications.app"),
        {
            **notifications_env,
            "LOG_LEVEL": "WARNING",
            "NOTIFICATIONS_HOST": "127.0.0.1",
            "NOTIFICATIONS_PORT": str(notifications_port),
        },
    )
    worker_env = {**notifications_env, "NOTIFICATIONS_EVENT_LANES": str(LANES)}

    def start_worker(name: str) -> Any:
        return processes.start(
            name,
            python("-m", "portail.cli", "worker", "--concurrency", str(KILLED_POOL_PROCESSES)),
            worker_env,
        )

    def ready(name: str) -> None:
        wait_until(
            lambda: " ready." in processes.log(name),
            timeout=60,
            what=f"{name} ready\n{processes.log(name)}",
        )

    base = f"http://127.0.0.1:{port}"
    first_worker = start_worker("worker-1")  # starts while the families service does

    statuses: Counter[int] = Counter()
    invitations: Counter[int] = Counter()
    family_ids: list[str] = []
    staff = signer.headers(role="staff", ttl=600)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:

        def up(url: str) -> Callable[[], Awaitable[bool]]:
            async def check() -> bool:
                try:
                    async with http.get(f"{url}/healthz") as response:
                        return response.status == 200
                except aiohttp.ClientError:
                    return False

            return check

        for name, url in (
            ("families", base),
            ("gateway", base_url_of(gateway_port)),
            ("auth", f"http://127.0.0.1:{auth_port}"),
            ("notifications", f"http://127.0.0.1:{notifications_port}"),
        ):
            await eventually(up(url), within=60, what=f"{name} service up\n{processes.log(name)}")
        await asyncio.to_thread(ready, "worker-1")  # so that the kill strikes it mid-work

        async def create(n: int) -> None:
            async with http.post(
                f"{base}/families", json={"name": f"CHAOS {n}"}, headers=staff
            ) as response:
                statuses[response.status] += 1
                if response.status != 201:
                    return
                family_id = (await response.json())["id"]
                family_ids.append(family_id)
            # The decision that calls for an e-mail: the family's parent is invited.
            async with http.post(
                f"http://127.0.0.1:{auth_port}/invitations",
                json={"email": f"chaos-{n}@example.org", "family_id": family_id},
                headers=staff,
            ) as response:
                invitations[response.status] += 1

        # Three bursts, each faster than the worker drains them, so that the chaos strikes
        # with events in flight: queued, reserved by a worker, handled but not yet confirmed.
        for burst in range(BURSTS):
            numbers = range(burst * BURST_SIZE, (burst + 1) * BURST_SIZE)
            await gather_limited((create(n) for n in numbers), limit=CONCURRENT_REQUESTS)
            if burst == KILL_WORKER_AFTER_BURST:
                await asyncio.sleep(0.3)  # let it take some of the burst
                processes.kill(first_worker)  # SIGKILL to the worker and its pool children
                start_worker("worker-2")  # not waited for: events pile up meanwhile
            if burst == RESTART_REDIS_AFTER_BURST:
                await asyncio.sleep(0.3)
                broker.restart_empty()
        produced_at = time.monotonic()

    assert statuses == Counter({201: EVENTS}), f"every decision commits, broker or not: {statuses}"
    assert invitations == Counter({201: EVENTS}), f"every invitation commits: {invitations}"

    families, notifications = chaos_databases["families"], chaos_databases["notifications"]
    auth = chaos_databases["auth"]

    async def converged() -> bool:
        journal = await fetch(notifications, "SELECT count(DISTINCT event_id) FROM journal_entries")
        pending = await fetch(
            families, "SELECT count(*) FROM outbox_messages WHERE confirmed_at IS NULL"
        )
        unsent = await fetch(
            notifications, "SELECT count(*) FROM outgoing_emails WHERE state <> 'sent'"
        )
        owed = await fetch(notifications, "SELECT count(*) FROM outgoing_emails")
        auth_pending = await fetch(
            auth, "SELECT count(*) FROM outbox_messages WHERE confirmed_at IS NULL"
        )
        return (
            journal[0][0] >= EVENTS
            and pending[0][0] == 0
            and auth_pending[0][0] == 0
            and owed[0][0] >= EVENTS
            and unsent[0][0] == 0
            and len(smtp_server.inbox.message_ids()) >= EVENTS
        )

    try:
        await eventually(converged, within=CONVERGE_WITHIN_SECONDS, interval=0.5, what="converged")
    except TimeoutError:
        pass  # the assertions below say what is missing
    converge_seconds = time.monotonic() - produced_at
    # Longer than the re-publication delay: a late duplicate would show up now.
    await asyncio.sleep(REPUBLISH_AFTER_SECONDS + 1)

    outbox = await fetch(families, "SELECT id, publish_count, confirmed_at FROM outbox_messages")
    journal = await fetch(notifications, "SELECT event_id, family_id FROM journal_entries")
    dead = await fetch(notifications, "SELECT reason FROM dead_letters")
    invited = await fetch(
        auth, "SELECT id FROM outbox_messages WHERE event_type = 'account.invited'"
    )
    emails = await fetch(notifications, "SELECT source_id, state, attempts FROM outgoing_emails")
    expected_ids = {f"<{row['id']}.0@{MAIL_DOMAIN}>" for row in invited}
    received = smtp_server.inbox.message_ids()
    event_ids = {row["id"] for row in outbox}
    journaled = Counter(row["event_id"] for row in journal)
    logs = processes.log_dir
    figures = {
        "events": len(event_ids),
        "journal_rows": len(journal),
        "duplicates": sum(n - 1 for n in journaled.values()),
        "missing": len(event_ids - set(journaled)),
        "republished": sum(row["publish_count"] for row in outbox) - len(outbox),
        "duplicate_deliveries_skipped": _count_outcomes(logs, "duplicate"),
        "unconfirmed_outbox_rows": sum(row["confirmed_at"] is None for row in outbox),
        "seconds_to_converge_after_last_event": round(converge_seconds, 1),
        "invitations": len(invited),
        "emails_received": sum(received.values()),
        "emails_missing": len(expected_ids - set(received)),
        "emails_duplicated": sum(n - 1 for n in received.values()),
        "emails_unexpected": len(set(received) - expected_ids),
        "email_rows_not_sent": sum(row["state"] != "sent" for row in emails),
        "email_sends_skipped": _count_outcomes(logs, "skipped"),
    }
    record_property("chaos", figures)
    print("chaos figures:", json.dumps(figures))

    assert len(event_ids) == EVENTS
    assert not dead, [row["reason"] for row in dead]
    assert figures["missing"] == 0, (figures, processes.log("worker-2"))
    assert "outbox_listening" in processes.whole_log("families-relay")
    assert figures["duplicates"] == 0, figures
    assert set(journaled) == event_ids
    assert sorted(row["family_id"] for row in journal) == sorted(family_ids)
    assert figures["unconfirmed_outbox_rows"] == 0, figures
    # The e-mails: one per invitation at the SMTP server, none missing.
    assert len(invited) == EVENTS
    assert figures["emails_missing"] == 0, (figures, processes.log("worker-2"))
    # SMTP has no transaction: an e-mail the server accepted while its worker was killed
    # before COMMIT is in doubt and is sent again, with the same Message-ID (so one e-mail
    # to the receiving server). That window is one COMMIT per e-mail in flight in the killed
    # worker (its pool processes × their lanes), so at most that many duplicates; anything
    # more is a real bug (no row lock, no idempotency), which this bound still catches.
    assert figures["emails_duplicated"] <= KILLED_POOL_PROCESSES * LANES, figures
    assert figures["emails_unexpected"] == 0, figures
    assert figures["email_rows_not_sent"] == 0, figures
    assert figures["emails_received"] == EVENTS + figures["emails_duplicated"], figures


def _count_outcomes(log_dir: Path, outcome: str) -> int:
    pattern = re.compile(rf'"outcome": "{outcome}"')
    return sum(
        len(pattern.findall(path.read_text(errors="replace")))
        for path in log_dir.glob("worker-*.log")
    )
