"""The monthly invoicing run for many families, with their PDFs, on this machine.

    uv run python -m bench.invoicing [--families 10000] [--days 12]

Real pieces: PostgreSQL (a fresh database, migrated), moto's S3 server as a separate
process (PDFs stored over HTTP, SSE AES256), billing's own code (`invoicing.preview`,
`invoicing.publish`, which numbers every invoice in one transaction and then renders and
stores each PDF). Bookings and families are a small aiohttp stand-in speaking their
contracts (`/api/bookings/billable-lines`, `/api/families/families/{id}`), so the figure
includes fetching 10,000 families over HTTP. Each family has one child booked `--days`
days of the month (journée at the ALSH, a meal at the canteen on half of them).
Writes bench/results/invoicing.json and prints the phases' durations.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
from aiohttp import web

from services.billing import invoicing
from services.billing.config import BillingSettings
from services.billing.models import Tariff, TariffBracket
from services.billing.storage import Storage
from services.billing.upstream import Upstream
from services.kit.database import Database
from services.kit.http_client import create_http_client
from services.kit.migrations import upgrade
from services.kit.outbox import utcnow

from .harness import RESULTS, free_port, process, recreate_database, run_async

DATABASE = "pf_bench_invoicing"
MONTH = "2026-03"
ALSH = "bench-alsh"
CANTINE = "bench-cantine"


def stand_in(families: int, days: int) -> tuple[web.Application, list[str]]:
    """Bookings' billable lines and families' records for `families` households."""
    ids = [str(uuid.uuid4()) for _ in range(families)]
    items: list[dict[str, Any]] = []
    for n, family_id in enumerate(ids):
        child = str(uuid.uuid4())
        for d in range(days):
            day = date(2026, 3, 2 + d).isoformat()
            base = {"family_id": family_id, "person_id": child, "person_name": f"Enfant {n}"}
            items.append(
                {
                    **base,
                    "activity_id": ALSH,
                    "activity_name": "ALSH Josta Leku",
                    "unit": "journee",
                    "date": day,
                    "state": "present",
                }
            )
            if d % 2 == 0:
                items.append(
                    {
                        **base,
                        "activity_id": CANTINE,
                        "activity_name": "Restauration",
                        "unit": "repas",
                        "date": day,
                        "state": "reserved",
                    }
                )
    body = json.dumps({"items": items}).encode()

    async def lines(_request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    async def family(request: web.Request) -> web.Response:
        family_id = request.match_info["family_id"]
        n = int(family_id[:4], 16)
        return web.json_response(
            {
                "id": family_id,
                "name": f"FAMILLE {family_id[:8].upper()}",
                "address": f"{n % 90 + 1} rue du Bench",
                "postal_code": "64240" if n % 5 else "75001",
                "city": "Hasparren",
                "email": f"f{n}@example.org",
                "quotient": None if n % 7 == 0 else n % 2000,
            }
        )

    app = web.Application()
    app.router.add_get("/api/bookings/billable-lines", lines)
    app.router.add_get("/api/families/families/{family_id}", family)
    return app, ids


async def tariffs(database: Database) -> None:
    """Bracket tariffs for the ALSH, rate tariffs for the canteen; both residencies."""
    async with database.transaction() as session:
        for resident in (True, False):
            session.add(
                Tariff(
                    id=str(uuid.uuid4()),
                    activity_id=ALSH,
                    activity_name="ALSH",
                    unit="journee",
                    resident=resident,
                    valid_from=date(2026, 1, 1),
                    mode="brackets",
                    created_at=utcnow(),
                    brackets=[
                        TariffBracket(id=str(uuid.uuid4()), qf_min=0, qf_max=700, price_cents=700),
                        TariffBracket(
                            id=str(uuid.uuid4()), qf_min=701, qf_max=None, price_cents=1500
                        ),
                    ],
                )
            )
            session.add(
                Tariff(
                    id=str(uuid.uuid4()),
                    activity_id=CANTINE,
                    activity_name="Cantine",
                    unit="repas",
                    resident=resident,
                    valid_from=date(2026, 1, 1),
                    mode="rate",
                    created_at=utcnow(),
                    rate_cents_per_qf=Decimal("0.4"),
                    floor_cents=150,
                    ceiling_cents=450,
                )
            )


async def run(
    families: int, days: int, s3: str, url: str, concurrency: int, processes: int
) -> dict[str, Any]:
    """The run itself; returns the phases' durations."""
    settings = BillingSettings(
        profile="test",
        database_url=url,
        s3_endpoint_url=s3,
        s3_bucket="bench-billing",
        pdf_concurrency=concurrency,
        jwks_json='{"keys": []}',
    )
    app, _ = stand_in(families, days)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    object.__setattr__(settings, "gateway_url", f"http://127.0.0.1:{port}")
    database = Database(url, pool_size=concurrency + 4)
    storage = Storage(settings)
    await storage.ensure_bucket()
    http = create_http_client(60)
    try:
        await tariffs(database)
        upstream = Upstream(http, settings, "Bearer bench")
        pdf_seconds: list[float] = []
        render = invoicing.render_missing_pdfs

        async def timed_render(*args: Any, **kwargs: Any) -> int:
            begun = time.perf_counter()
            try:
                return await render(*args, **kwargs)
            finally:
                pdf_seconds.append(time.perf_counter() - begun)

        # The same function, timed: publication = numbering transaction, then the PDFs.
        invoicing.render_missing_pdfs = timed_render  # type: ignore[assignment]
        started = time.perf_counter()
        preview = await invoicing.preview(database, upstream, settings, month=MONTH, actor="bench")
        previewed = time.perf_counter()
        with ProcessPoolExecutor(max_workers=processes) as pool:
            await invoicing.publish(database, storage, settings, run_id=preview.id, executor=pool)
        published = time.perf_counter()
    finally:
        await http.close()
        await database.dispose()
        await runner.cleanup()
    return {
        "invoices": preview.invoice_count,
        "total_cents": preview.total_cents,
        "preview_seconds": round(previewed - started, 1),
        "publish_and_pdfs_seconds": round(published - previewed, 1),
        "of_which_pdfs_seconds": round(sum(pdf_seconds), 1),
        "total_seconds": round(published - started, 1),
    }


def main() -> None:
    """Run the benchmark and write its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=12)
    parser.add_argument("--pdf-concurrency", type=int, default=8)
    parser.add_argument("--pdf-processes", type=int, default=2)
    args = parser.parse_args()
    url = run_async(recreate_database(DATABASE))
    upgrade(Path(__file__).resolve().parent.parent / "services" / "billing" / "migrations", url)
    s3_port = free_port()
    s3 = f"http://127.0.0.1:{s3_port}"
    RESULTS.mkdir(parents=True, exist_ok=True)
    with process(["moto_server", "-p", str(s3_port)], {}, RESULTS / "invoicing-moto.log"):
        client = boto3.client(
            "s3",
            endpoint_url=s3,
            region_name="eu-west-3",
            aws_access_key_id="x",
            aws_secret_access_key="y",
        )
        for _ in range(100):
            try:
                client.list_buckets()
                break
            except Exception:
                time.sleep(0.1)
        figures = run_async(
            run(args.families, args.days, s3, url, args.pdf_concurrency, args.pdf_processes)
        )
        objects = sum(
            page.get("KeyCount", 0)
            for page in client.get_paginator("list_objects_v2").paginate(Bucket="bench-billing")
        )
    figures.update(
        families=args.families,
        days=args.days,
        pdfs_in_s3=objects,
        pdf_processes=args.pdf_processes,
        machine=f"{platform.machine()} {os.cpu_count()} CPU",
        measured_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    (RESULTS / "invoicing.json").write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
