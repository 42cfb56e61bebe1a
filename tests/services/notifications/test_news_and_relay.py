"""News on the dashboard, the e-mail relay (lost send tasks come back), the staff digest."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import select, update

from services.bookings.models import Period
from services.bookings.seed import seed_demo as seed_bookings
from services.kit.database import Database
from services.kit.migrations import upgrade_async
from services.kit.outbox import utcnow
from services.kit.queue import create_celery
from services.kit.testing import TestSigner
from services.kit.typography import french_spacing
from services.notifications.digest import owe_digest
from services.notifications.models import News, OutgoingEmail
from services.notifications.relay import EmailRelay
from services.notifications.seed import (
    DEMO_NEWS_ID,
    DEMO_NEWS_TEXT,
    PARIS,
    demo_news_text,
    french_day,
    seed_demo,
)
from services.notifications.sending import enqueue_email

from ... import support
from .factories import invited, of_type, settings_for
from .mailing import deliver, emails, send_pending
from .smtp_server import SmtpServer

BOOKINGS_MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "bookings" / "migrations"


def iso(moment: datetime) -> str:
    return moment.isoformat()


async def test_the_dashboard_shows_current_news_for_everyone_or_the_familys_activities(
    database: Database, service_client: Any, signer: TestSigner
) -> None:
    await seed_demo(database)
    client = await service_client("notifications", email_relay_enabled=False)
    staff = signer.headers(role="staff", subject="agent-1")
    now = datetime.now(UTC)
    alsh = str(uuid.uuid4())
    registered, other = str(uuid.uuid4()), str(uuid.uuid4())
    settings = settings_for(1)
    await deliver(database, settings, of_type("registration.accepted", registered,
                                              source="bookings", activity_id=alsh))  # fmt: skip
    published = []
    for title, start, end, activity in [
        ("Pour l'ALSH", now - timedelta(days=1), None, alsh),
        ("Fini", now - timedelta(days=10), now - timedelta(days=1), None),
        ("Bientôt", now + timedelta(days=1), None, None),
    ]:
        body = {"title": title, "text": f"{title}.", "visible_from": iso(start),
                "visible_until": iso(end) if end else None, "activity_id": activity}  # fmt: skip
        published.append(await client.post("/news", json=body, headers=staff))
    backwards = await client.post(
        "/news",
        json={"title": "x", "text": "x", "visible_from": iso(now), "visible_until": iso(now)},
        headers=staff,
    )

    mine = await (
        await client.get(f"/dashboard/{registered}", headers=signer.headers(families=[registered]))
    ).json()
    theirs = await (
        await client.get(f"/dashboard/{other}", headers=signer.headers(families=[other]))
    ).json()

    assert [p.status for p in published] == [201, 201, 201]
    assert backwards.status == 422
    assert [n["title"] for n in mine["news"]] == ["Pour l'ALSH", "Inscriptions ALSH Josta Leku"]
    assert theirs["news"] == [{"title": "Inscriptions ALSH Josta Leku", "text": DEMO_NEWS_TEXT}]
    assert set(mine) == {"historique", "contact", "news"}

    withdrawn = await client.delete(f"/news/{(await published[0].json())['id']}", headers=staff)
    after = await (
        await client.get(f"/dashboard/{registered}", headers=signer.headers(families=[registered]))
    ).json()
    assert withdrawn.status == 204
    assert [n["title"] for n in after["news"]] == ["Inscriptions ALSH Josta Leku"]


def queued_email_ids(client: redis.Redis) -> list[str]:
    """The e-mail ids of the send tasks waiting on the `email` queue."""
    ids = []
    for raw in client.lrange("email", 0, -1):
        envelope = json.loads(raw)
        args, _kwargs, _embed = json.loads(base64.b64decode(envelope["body"]))
        ids.append(args[0])
    return ids


async def test_the_relay_enqueues_pending_emails_again_once_their_task_may_be_lost(
    database: Database,
) -> None:
    settings = settings_for(1)
    await deliver(database, settings, invited(str(uuid.uuid4()), "a@example.org"))
    await deliver(database, settings, invited(str(uuid.uuid4()), "b@example.org"))
    first, second = await emails(database)
    async with database.transaction() as session:  # the first one's task is long gone
        await session.execute(
            update(OutgoingEmail)
            .where(OutgoingEmail.id == first.id)
            .values(enqueued_at=utcnow() - timedelta(seconds=60))
        )
    queue = redis.Redis.from_url(support.redis_url())
    queue.delete("email")
    celery = create_celery(support.redis_url())
    relay = EmailRelay(database, lambda i: enqueue_email(celery, i), interval=1, requeue_after=30)
    try:
        enqueued = await relay.relay_once()
        again = await relay.relay_once()
        waiting = queued_email_ids(queue)
    finally:
        celery.close()
        queue.delete("email")
        queue.close()

    assert (enqueued, again) == (1, 0), "recently enqueued rows are left alone"
    assert waiting == [first.id]
    assert second.id not in waiting


async def test_the_staff_digest_counts_pending_requests_once_a_day(
    database: Database, smtp: SmtpServer
) -> None:
    settings = settings_for(smtp.port, digest_recipients="agent@example.org, chef@example.org")
    family = str(uuid.uuid4())
    for n in range(3):
        await deliver(database, settings, of_type("registration.requested", family,
                                                  source="bookings", registration_id=f"r{n}"))  # fmt: skip  # noqa: E501
    await deliver(database, settings, of_type("registration.accepted", family, source="bookings",
                                              registration_id="r0"))  # fmt: skip
    await deliver(database, settings, of_type("document.submitted", family, source="documents",
                                              submission_id="s1"))  # fmt: skip

    async with database.transaction() as session:
        owed = await owe_digest(session, settings)
    async with database.transaction() as session:
        twice = await owe_digest(session, settings)
    await send_pending(database, settings)

    assert len(owed) == 2 and twice == []
    (mail,) = smtp.inbox.to("agent@example.org")
    assert mail["Subject"] == "[Espace Famille] 3 demandes en attente"
    text = str(mail.get_body(("plain",)).get_content())
    assert french_spacing("Demandes d'inscription : 2", narrow=False) in text
    assert french_spacing("Documents à valider : 1", narrow=False) in text


async def test_the_demo_news_is_dated_from_the_day_it_is_seeded_once(
    database: Database, service_client: Any, signer: TestSigner
) -> None:
    await seed_demo(database, today=date(2026, 11, 29))  # a Sunday
    await seed_demo(database, today=date(2027, 3, 3))  # seeded again later: kept as it was
    client = await service_client("notifications", email_relay_enabled=False)
    family = str(uuid.uuid4())
    shown = await (
        await client.get(f"/dashboard/{family}", headers=signer.headers(families=[family]))
    ).json()
    # Open from that week's Monday to the Thursday eleven days before the next holidays six
    # weeks ahead at least (the winter ones, Monday 8 February 2027), as the manual's « du
    # lundi 27 mars au jeudi 6 avril ».
    text = (
        "Les inscriptions aux vacances d'hiver 2027 à l'ALSH Josta Leku sont du lundi 23 "
        "novembre 2026 au jeudi 28 janvier 2027 via votre Espace Famille."
    )
    assert shown["news"] == [{"title": "Inscriptions ALSH Josta Leku", "text": text}]
    # Within a year only the last date says it; the weekdays match the dates.
    assert "printemps 2026 à l'ALSH Josta Leku sont du lundi 2 mars au jeudi 2 avril 2026" in (
        demo_news_text(date(2026, 3, 2))
    )
    # Seeded close to the holidays, the registration is to the next ones, a month on at least.
    assert "d'été 2027 à l'ALSH Josta Leku sont du lundi 8 mars au jeudi 24 juin 2027" in (
        demo_news_text(date(2027, 3, 14))
    )


async def test_the_demo_news_announces_the_days_the_demo_holidays_period_opens_and_closes(
    database: Database, tmp_path: Path
) -> None:
    """Both seeds, run the same day, tell the same truth (a Sunday, the Paris day of 23:30 UTC)."""
    seeded_at = datetime(2026, 11, 28, 23, 30, tzinfo=UTC)
    bookings = Database(f"sqlite+aiosqlite:///{tmp_path / 'bookings.sqlite'}")
    try:
        await upgrade_async(BOOKINGS_MIGRATIONS, bookings.url)
        await seed_bookings(bookings, clock=lambda: seeded_at)
        async with bookings.sessions() as session:
            holidays = await session.scalar(select(Period).where(Period.name.like("Vacances%")))
    finally:
        await bookings.dispose()
    await seed_demo(database, today=date(2026, 11, 29))
    async with database.sessions() as session:
        news = await session.get(News, DEMO_NEWS_ID)

    assert holidays is not None and news is not None
    opens = holidays.registration_opens_at.astimezone(PARIS)
    closes = holidays.registration_closes_at.astimezone(PARIS)
    assert opens <= seeded_at < closes, "open on the day it is seeded"
    assert closes - seeded_at >= timedelta(days=30), "still open when tried weeks later"
    said = f"du {french_day(opens.date(), year=True)} au {french_day(closes.date(), year=True)}"
    assert said in news.text
