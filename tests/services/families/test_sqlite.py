"""The dev profile's embedded database: the same request → accept flow on SQLite, and the seed."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from portail.demo import DEMO_CHILD_ID, DEMO_FAMILY_ID
from services.families.app import create_app
from services.families.config import FamiliesSettings
from services.families.seed import seed_demo
from services.kit.keys import DATABASE
from services.kit.testing import TestSigner
from tests import support


async def test_the_change_request_flow_runs_on_sqlite(
    aiohttp_client, signer: TestSigner, tmp_path: Path
) -> None:
    settings = FamiliesSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'families.sqlite'}",
        redis_url=support.redis_url(),
        jwks_json=json.dumps(signer.jwks),
        profile="test",
        run_migrations_at_start=True,
    )
    client = await aiohttp_client(create_app(settings))
    await seed_demo(client.app[DATABASE])
    await seed_demo(client.app[DATABASE])
    parent = signer.headers(families=[DEMO_FAMILY_ID])
    staff = signer.headers(role="staff")

    child = await (
        await client.get(f"/families/{DEMO_FAMILY_ID}/persons/{DEMO_CHILD_ID}", headers=parent)
    ).json()
    asked = [
        client.post(
            f"/families/{DEMO_FAMILY_ID}/requests",
            json={
                "target": "person",
                "person_id": DEMO_CHILD_ID,
                "version": child["version"],
                "changes": {"school_class": f"CM{i}"},
            },
            headers=parent,
        )
        for i in range(1, 4)
    ]
    statuses = sorted(r.status for r in await asyncio.gather(*asked))
    assert statuses == [201, 409, 409]  # BEGIN IMMEDIATE serialises them: one wins

    [pending] = await (
        await client.get(f"/families/{DEMO_FAMILY_ID}/requests?state=pending", headers=parent)
    ).json()
    accepts = await asyncio.gather(
        *(
            client.post(f"/staff/requests/{pending['id']}/accept", json={}, headers=staff)
            for _ in range(3)
        )
    )
    assert sorted(r.status for r in accepts) == [200, 409, 409]
    after = await (
        await client.get(f"/families/{DEMO_FAMILY_ID}/persons/{DEMO_CHILD_ID}", headers=parent)
    ).json()
    assert after["school_class"] == pending["changes"][0]["new"]
    assert after["version"] == child["version"] + 1


async def test_times_are_utc_on_sqlite_and_the_feed_reads_any_offset(
    aiohttp_client, signer: TestSigner, tmp_path: Path
) -> None:
    settings = FamiliesSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'families.sqlite'}",
        redis_url=support.redis_url(),
        jwks_json=json.dumps(signer.jwks),
        profile="test",
        run_migrations_at_start=True,
    )
    client = await aiohttp_client(create_app(settings))
    staff = signer.headers(role="staff")
    created = await (await client.post("/families", json={"name": "UTC"}, headers=staff)).json()
    read = await (await client.get(f"/families/{created['id']}", headers=staff)).json()

    # SQLite keeps no zone: a time read back must still say it is UTC, as PostgreSQL's does.
    at = datetime.fromisoformat(read["updated_at"])
    assert at.utcoffset() == timedelta(0), read["updated_at"]

    # The same instant written in Paris time finds the family; a minute later does not.
    paris = (at - timedelta(seconds=1)).astimezone(timezone(timedelta(hours=1))).isoformat()
    later = (at + timedelta(minutes=1)).astimezone(timezone(timedelta(hours=1))).isoformat()
    feed = await (await client.get("/changes", params={"since": paris}, headers=staff)).json()
    assert [f["name"] for f in feed["families"]] == ["UTC"]
    feed = await (await client.get("/changes", params={"since": later}, headers=staff)).json()
    assert feed["families"] == []
