"""A lane's share of a batch: one transaction for its events, then its e-mails sent one by one,
each recorded at once; what a worker killed in between leaves to the relay."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
import redis

from portail.registry import service
from services.kit.database import Database
from services.kit.migrations import upgrade
from services.kit.outbox import ACK_KEY
from services.notifications import tasks
from services.notifications.relay import EmailRelay

from ... import support
from .factories import event, invited
from .smtp_server import SmtpServer
from .test_tasks import _fetch, consumer_env, email_rows, empty_email_queue  # noqa: F401


def transactions(url: str, table: str, column: str, ids: list[str]) -> set[str]:
    """The ids of the transactions (`xmin`) that wrote the rows of `table` whose `column` is in
    `ids`: one id, one transaction."""
    rows = asyncio.run(
        _fetch(url, f"SELECT xmin::text AS xid FROM {table} WHERE {column} = ANY($1)", ids)
    )
    return {row["xid"] for row in rows}


def dead_letters(url: str) -> set[tuple[str, str]]:
    """(id, reason) of every dead letter."""
    rows = asyncio.run(_fetch(url, "SELECT id, reason FROM dead_letters"))
    return {(row["id"], row["reason"]) for row in rows}


def acknowledged(event_ids: list[str]) -> list[bool]:
    """Whether each event was acknowledged to its producer."""
    client = redis.Redis.from_url(support.redis_url())
    try:
        return [client.get(ACK_KEY.format(i)) == b"1" for i in event_ids]
    finally:
        client.close()


@pytest.fixture
def one_lane(
    consumer_env: str,  # noqa: F811
    smtp: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    empty_email_queue: None,  # noqa: F811
) -> str:
    """A worker process of one lane, sending to this test's SMTP server; the database URL."""
    monkeypatch.setenv("SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("NOTIFICATIONS_EVENT_LANES", "1")
    tasks._close_runtime()
    return consumer_env


def test_a_share_of_good_duplicate_and_malformed_events_is_one_transaction(
    one_lane: str, smtp: SmtpServer
) -> None:
    seen = invited(str(uuid.uuid4()), "seen@example.org")
    assert tasks.deliver.run(seen) == "handled"
    first, second = (
        invited(str(uuid.uuid4()), "a@example.org"),
        invited(str(uuid.uuid4()), "b@example.org"),
    )
    without_date = event()
    del without_date["occurred_at"]
    unknown = event("invoice.teleported")
    batch = ["garbage", first, seen, dict(first), without_date, unknown, second]
    before = dead_letters(one_lane)  # the database is this run's, shared with other tests

    outcomes = tasks.deliver_many.run(batch)

    assert outcomes == {"handled": 2, "duplicate": 2, "dead_letter": 3}
    ids = [first["id"], second["id"], without_date["id"], unknown["id"]]
    assert acknowledged([*ids, seen["id"]]) == [True] * 5
    claims = transactions(one_lane, "processed_events", "event_id", ids)
    families = [first["family_id"], second["family_id"]]
    learnt = transactions(one_lane, "account_families", "family_id", families)
    assert len(claims) == 1 and learnt == claims, "claims and what they taught: one transaction"
    marks = transactions(one_lane, "outgoing_emails", "source_id", ids[:2])
    assert len(marks) == 2 and not marks & claims, "each e-mail marked sent on its own"
    assert sorted(str(m["To"]) for m in smtp.inbox.messages) == [
        "a@example.org",
        "b@example.org",
        "seen@example.org",
    ]
    for message in (first, second):
        (row,) = email_rows(one_lane, message["id"])
        assert (row["state"], row["attempts"]) == ("sent", 1)
    letters = dead_letters(one_lane) - before
    assert sorted(reason for _, reason in letters) == [
        "malformed envelope: occurred_at",
        "the message is a str, not an object",
        "unknown event type 'invoice.teleported'",
    ]


def test_an_event_the_database_refuses_fails_alone_and_the_others_commit(
    one_lane: str, smtp: SmtpServer
) -> None:
    good = [invited(str(uuid.uuid4()), f"p{n}@example.org") for n in range(2)]
    refused = event()
    refused["family_id"] = None
    refused["data"]["family_id"] = "x" * 40  # longer than the journal's column: refused

    outcomes = tasks.deliver_many.run([good[0], refused, good[1]])

    assert outcomes == {"handled": 2, "failed": 1}
    assert acknowledged([good[0]["id"], refused["id"], good[1]["id"]]) == [True, False, True]
    claims = transactions(one_lane, "processed_events", "event_id", [m["id"] for m in good])
    assert len(claims) == 2, "handled again one by one, each in its own transaction"
    assert len(smtp.inbox.messages) == 2


def test_a_worker_killed_between_commit_and_send_leaves_the_email_to_the_relay_once(
    one_lane: str, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    lease = 1.0
    monkeypatch.setenv("NOTIFICATIONS_EMAIL_REQUEUE_AFTER_SECONDS", str(lease))
    tasks._close_runtime()
    current = tasks.runtime()
    message = invited(str(uuid.uuid4()), "a@example.org")

    # The lane commits its share; the worker dies before a single send (nothing else runs).
    (delivery,) = current.run(tasks.commit_share(current, [message]))
    (row,) = delivery.emails
    enqueued: list[str] = []
    during_lease, after_lease = asyncio.run(relay_before_and_after(one_lane, lease, enqueued))

    assert (during_lease, after_lease) == (0, 1), "left alone while leased, then enqueued"
    assert enqueued == [row.id]
    assert tasks.send.run(row.id) == "sent"
    assert tasks.send.run(row.id) == "skipped", "a second task for it sends nothing"
    assert [str(m["To"]) for m in smtp.inbox.messages] == ["a@example.org"]
    (stored,) = email_rows(one_lane, message["id"])
    assert (stored["state"], stored["attempts"]) == ("sent", 1)


async def relay_before_and_after(url: str, lease: float, enqueued: list[str]) -> tuple[int, int]:
    """A relay pass during the lease, then one after it; how many e-mails each enqueued."""
    database = Database(url, pool_size=1)
    relay = EmailRelay(database, enqueued.append, interval=1, requeue_after=lease)
    try:
        during = await relay.relay_once()
        await asyncio.sleep(lease + 0.1)
        return during, await relay.relay_once()
    finally:
        await database.dispose()


def test_a_lane_past_half_its_lease_sends_nothing_more(
    one_lane: str, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTIFICATIONS_EMAIL_REQUEUE_AFTER_SECONDS", "10")
    tasks._close_runtime()
    current = tasks.runtime()
    messages = [invited(str(uuid.uuid4()), f"p{n}@example.org") for n in range(2)]
    deliveries = current.run(tasks.commit_share(current, messages))
    rows = [row for delivery in deliveries if delivery for row in delivery.emails]

    async def send_late() -> None:
        # As if the commit had taken six of the lease's ten seconds.
        started = asyncio.get_running_loop().time() - 6
        await tasks.send_owed(current, current.smtp, rows, leased_at=started)

    current.run(send_late())

    assert smtp.inbox.messages == []
    for message in messages:
        (row,) = email_rows(one_lane, message["id"])
        assert (row["state"], row["attempts"]) == ("pending", 0), "the relay's, once leased out"


def test_batches_on_the_embedded_database(
    tmp_path: Path, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'notifications.sqlite'}"
    upgrade(service("notifications").migrations_dir, url)
    monkeypatch.setenv("PORTAIL_PROFILE", "test")
    monkeypatch.setenv("NOTIFICATIONS_DATABASE_URL", url)
    monkeypatch.setenv("REDIS_URL", support.redis_url())
    monkeypatch.setenv("SMTP_PORT", str(smtp.port))
    tasks._close_runtime()
    family = str(uuid.uuid4())
    batch = [invited(family, "p@example.org"), event(family_id=family), "garbage"]
    try:
        outcomes = tasks.deliver_many.run([*batch, batch[0]])
    finally:
        tasks._close_runtime()

    assert outcomes == {"handled": 2, "dead_letter": 1, "duplicate": 1}
    assert [str(m["To"]) for m in smtp.inbox.messages] == ["p@example.org"]
