"""The journal and dashboard endpoints, on the real app and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from services.kit.keys import DATABASE
from services.kit.testing import TestSigner
from services.notifications.service import handle_event

from .factories import SETTINGS, event


async def journal_of(client: Any, family_id: str, entries: int) -> list[dict[str, Any]]:
    """Deliver `entries` events of `family_id`, one day apart, newest last."""
    start = datetime(2026, 3, 2, 8, tzinfo=UTC)
    messages = [
        event(family_id=family_id, occurred_at=start + timedelta(days=n), name=f"N{n}")
        for n in range(entries)
    ]
    async with client.app[DATABASE].transaction() as session:
        for message in messages:
            await handle_event(session, raw=message, settings=SETTINGS)
    return messages


async def test_a_parent_reads_the_journal_newest_first_page_by_page(
    service_client: Any, signer: TestSigner
) -> None:
    client = await service_client("notifications")
    family = str(uuid.uuid4())
    messages = await journal_of(client, family, 3)
    parent = signer.headers(families=[family])

    first = await client.get(f"/journal/{family}?page_size=2", headers=parent)
    second = await client.get(f"/journal/{family}?page_size=2&page=2", headers=parent)

    assert first.status == 200, await first.text()
    body = await first.json()
    assert (body["total"], body["page"], body["page_size"]) == (3, 1, 2)
    assert [e["summary"]["name"] for e in body["items"]] == ["N2", "N1"]
    assert set(body["items"][0]) == {
        "id",
        "event_type",
        "occurred_at",
        "account_id",
        "summary",
        "by",
        "account",
    }
    assert [e["summary"]["name"] for e in (await second.json())["items"]] == ["N0"]
    assert messages[0]["id"] not in await first.text(), "event ids stay internal"


async def test_the_week_filter_keeps_entries_within_since_and_until(
    service_client: Any, signer: TestSigner
) -> None:
    client = await service_client("notifications")
    family = str(uuid.uuid4())
    await journal_of(client, family, 3)  # 2, 3 and 4 March

    response = await client.get(
        f"/journal/{family}",
        params={"since": "2026-03-03T00:00:00+01:00", "until": "2026-03-04T00:00:00+01:00"},
        headers=signer.headers(role="staff"),
    )

    body = await response.json()
    assert [e["summary"]["name"] for e in body["items"]] == ["N1"]
    assert body["total"] == 1


async def test_a_page_size_above_100_is_capped(service_client: Any, signer: TestSigner) -> None:
    client = await service_client("notifications")
    family = str(uuid.uuid4())
    response = await client.get(
        f"/journal/{family}?page_size=5000", headers=signer.headers(families=[family])
    )
    assert response.status == 200
    assert (await response.json())["page_size"] == 100


async def test_bad_query_parameters_get_a_precise_problem(
    service_client: Any, signer: TestSigner
) -> None:
    client = await service_client("notifications")
    family = str(uuid.uuid4())
    response = await client.get(
        f"/journal/{family}?page=0&since=yesterday", headers=signer.headers(families=[family])
    )
    assert response.status == 422
    fields = {e["field"] for e in (await response.json())["errors"]}
    assert fields == {"page", "since"}


async def test_another_familys_journal_answers_like_a_missing_one(
    service_client: Any, signer: TestSigner
) -> None:
    client = await service_client("notifications")
    mine, theirs = str(uuid.uuid4()), str(uuid.uuid4())
    await journal_of(client, theirs, 2)
    parent = signer.headers(families=[mine])

    foreign = await client.get(f"/journal/{theirs}", headers=parent)
    missing = await client.get(f"/journal/{uuid.uuid4()}", headers=parent)
    foreign_tile = await client.get(f"/dashboard/{theirs}", headers=parent)

    assert foreign.status == missing.status == foreign_tile.status == 404
    assert foreign.headers["Content-Type"].startswith("application/problem+json")
    assert (await foreign.json())["detail"] == (await missing.json())["detail"]
    assert "N0" not in await foreign.text()


async def test_anonymous_callers_are_refused(service_client: Any) -> None:
    client = await service_client("notifications")
    response = await client.get(f"/journal/{uuid.uuid4()}")
    assert response.status == 401


async def test_the_dashboard_counts_the_journal(service_client: Any, signer: TestSigner) -> None:
    client = await service_client("notifications")
    family = str(uuid.uuid4())
    await journal_of(client, family, 2)

    response = await client.get(f"/dashboard/{family}", headers=signer.headers(families=[family]))

    assert response.status == 200
    tiles = await response.json()
    assert tiles["historique"] == {"count": 2}
    assert tiles["contact"] == {"count": 0}
    # News is the structure's, shared by every family: other tests of the run may publish some.
    assert isinstance(tiles["news"], list)


async def test_dead_letters_are_for_staff_only(service_client: Any, signer: TestSigner) -> None:
    client = await service_client("notifications")
    async with client.app[DATABASE].transaction() as session:
        await handle_event(session, raw={"garbage": True}, settings=SETTINGS)

    parent = await client.get("/dead-letters", headers=signer.headers(families=["f"]))
    staff = await client.get("/dead-letters", headers=signer.headers(role="staff"))

    assert parent.status == 403
    body = await staff.json()
    assert body["total"] >= 1
    assert any(letter["raw"] == {"garbage": True} for letter in body["items"])


async def test_the_openapi_document_describes_the_endpoints(service_client: Any) -> None:
    client = await service_client("notifications")
    document = await (await client.get("/openapi.json")).json()
    assert {"/journal/{family_id}", "/dashboard/{family_id}", "/dead-letters"} <= set(
        document["paths"]
    )


async def test_ids_that_cannot_exist_answer_404_not_500(
    service_client: Any, signer: TestSigner
) -> None:
    client = await service_client("notifications")
    staff = signer.headers(role="staff")
    for family_id in ("x" * 300, "a%20b"):
        journal = await client.get(f"/journal/{family_id}", headers=staff)
        tile = await client.get(f"/dashboard/{family_id}", headers=staff)
        assert journal.status == tile.status == 404, family_id
    # A NUL byte: refused before any handler (the kit's guard, 400) or missing (404), never 500.
    journal = await client.get("/journal/a%00b", headers=staff)
    assert journal.status in (400, 404)
