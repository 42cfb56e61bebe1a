"""The dev profile's embedded database: billing migrates, seeds and pays on SQLite too."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from portail.demo import DEMO_FAMILY_ID
from services.billing.app import create_app
from services.billing.config import BillingSettings
from services.billing.seed import seed_demo
from services.kit.keys import DATABASE
from services.kit.testing import TestSigner
from tests import support


async def test_on_sqlite_the_demo_invoice_downloads_and_is_paid_with_the_simulator(
    aiohttp_client: Any, signer: TestSigner, s3_endpoint: str, tmp_path: Path
) -> None:
    settings = BillingSettings(
        profile="dev",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'billing.sqlite'}",
        run_migrations_at_start=True,
        redis_url=support.redis_url(),
        jwks_json=json.dumps(signer.jwks),
        s3_endpoint_url=s3_endpoint,
        s3_bucket=f"dev-{uuid.uuid4().hex[:12]}",
    )
    client = await aiohttp_client(create_app(settings))
    await seed_demo(client.app[DATABASE], today=date(2026, 11, 29))
    parent = signer.headers(subject="parent", families=[DEMO_FAMILY_ID])
    listed = await (await client.get(f"/families/{DEMO_FAMILY_ID}/invoices", headers=parent)).json()
    (invoice,) = listed["items"]
    assert (invoice["number"], invoice["balance_cents"]) == ("F261000003", 1500)
    pdf = await client.get(
        f"/families/{DEMO_FAMILY_ID}/invoices/{invoice['id']}/pdf", headers=parent
    )
    assert pdf.status == 200 and (await pdf.read()).startswith(b"%PDF")

    started = await (
        await client.post(
            f"/families/{DEMO_FAMILY_ID}/invoices/{invoice['id']}/payfip", headers=parent
        )
    ).json()
    async with client.session.post(
        started["redirect_url"].split("?")[0],
        data={"idop": started["idop"], "choix": "P"},
        allow_redirects=False,
    ) as answer:
        assert answer.status == 303
    settled = await (
        await client.get(
            f"/families/{DEMO_FAMILY_ID}/invoices", params={"state": "settled"}, headers=parent
        )
    ).json()
    assert "F261000003" in [i["number"] for i in settled["items"]]
    dashboard = await (await client.get(f"/dashboard/{DEMO_FAMILY_ID}", headers=parent)).json()
    assert dashboard == {"factures": {"count": 0}}


async def test_on_sqlite_paying_again_hands_back_a_double_click_and_replaces_a_left_attempt(
    aiohttp_client: Any, signer: TestSigner, s3_endpoint: str, tmp_path: Path
) -> None:
    # SQLite gives back naive datetimes: comparing the open attempt's creation and expiry with
    # the aware clock used to end in a 500 ("An unexpected error occurred.") on the page.
    settings = BillingSettings(
        profile="dev",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'billing.sqlite'}",
        run_migrations_at_start=True,
        redis_url=support.redis_url(),
        jwks_json=json.dumps(signer.jwks),
        s3_endpoint_url=s3_endpoint,
        s3_bucket=f"dev-{uuid.uuid4().hex[:12]}",
    )
    client = await aiohttp_client(create_app(settings))
    await seed_demo(client.app[DATABASE], today=date(2026, 11, 29))
    parent = signer.headers(subject="parent", families=[DEMO_FAMILY_ID])
    listed = await (await client.get(f"/families/{DEMO_FAMILY_ID}/invoices", headers=parent)).json()
    (invoice,) = listed["items"]
    start = f"/families/{DEMO_FAMILY_ID}/invoices/{invoice['id']}/payfip"

    first = await client.post(start, headers=parent)
    assert first.status == 201, await first.text()
    double_click = await client.post(start, headers=parent)
    assert double_click.status == 201, await double_click.text()
    assert await double_click.json() == await first.json()

    # The parent left PayFiP's page and comes back later: a new attempt replaces the first.
    async with client.app[DATABASE].transaction() as session:
        await session.execute(
            text("UPDATE payment_attempts SET created_at = :at"),
            {"at": datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=2)},
        )
    later = await client.post(start, headers=parent)
    assert later.status == 201, await later.text()
    assert (await later.json())["attempt_id"] != (await first.json())["attempt_id"]
