"""Reservations through the gateway, on a seeded town: the week, a save of 10, the rush, and
the bare conditional UPDATE in the same run.

    uv run python -m bench.bookings_reservations [--families 10000] [--reservations 1000000]
        [--bookings-processes 1] [--fresh-town]

Starts the bookings service (`--bookings-processes` copies sharing one port, as replicas
would) and the gateway as separate processes (PostgreSQL, Redis), seeds the town
(bench/bookings_seed.py) into a template database kept between runs (`pf_bench_bookings_town`;
`--fresh-town` seeds it anew), copies it (`CREATE DATABASE … TEMPLATE`: every run starts
from the same town, so two runs back to back compare code, not towns), then measures with an
aiohttp client:
1. one child's week (`GET …/planning`) — closed loop, `--connections` at once, requests/s
   and p50/p95/p99; then the same with each of `--light-connections` (4 and 8 by default: the
   latency when requests are not queued behind one another);
2. saving a week of 10 changes — distinct children, 8 at once, p50/p95;
3. the opening-day rush — 1,000 saves at once for one opening of 20 places: statuses,
   confirmed count, p95, attempts/s;
4. the bare `UPDATE openings SET booked = booked + 1 WHERE id = $1 AND booked < capacity
   RETURNING` with asyncpg (pool of 20), 1,000 at once on another 20-place opening.
The gateway runs with the shipped rate-limit table (`gateway/rate_limits.yaml`: its rules and
the booking bucket's line), its counts raised out of reach.
Writes bench/results/bookings_reservations.json (`…_N_processes.json` with N copies) and
prints the results.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from contextlib import ExitStack
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from services.kit import event_loop
from services.kit.testing import TestSigner

from .bookings_seed import Town, seed
from .harness import (
    POSTGRES_ADMIN_URL,
    RESULTS,
    free_port,
    process,
    recreate_database,
    run_async,
    wait_http,
)
from .week_wrk import week_with_wrk

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
SHIPPED_LIMITS = Path(__file__).resolve().parent.parent / "gateway" / "rate_limits.yaml"
# `--relay-process`: the relay is woken by the commits' NOTIFY; its poll is the safety net,
# at the value the deployments ship (deploy/compose.yaml, deploy/k8s/base/relays/).
RELAY_PROCESS_INTERVAL = 5.0


def _limits() -> str:
    """The shipped rate-limit table (its buckets, rules and lines: the booking bucket's
    `concurrency`), with counts no benchmark reaches."""
    import yaml

    table = yaml.safe_load(SHIPPED_LIMITS.read_text())
    for bucket in table["buckets"].values():
        bucket.update(per_ip=100_000_000, per_identity=100_000_000)
    return yaml.safe_dump(table)


WEEK = date(2027, 1, 11)  # a Monday with seeded reservations
SAVE_WEEK = date(2027, 3, 1)  # a Monday after the seeded ones: free cells


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1) if ordered else 0.0


async def _week(gateway: str, tokens: list[tuple[str, str, str]], seconds: int, conns: int):  # type: ignore[no-untyped-def]
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    stop = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=conns)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker(index: int) -> None:
            n = index
            while time.perf_counter() < stop:
                family, person, token = tokens[n % len(tokens)]
                n += conns
                started = time.perf_counter()
                async with http.get(
                    f"{gateway}/api/bookings/families/{family}/persons/{person}/planning",
                    params={"starts_on": WEEK.isoformat()},
                    headers={"Authorization": f"Bearer {token}"},
                ) as response:
                    await response.read()
                    statuses[response.status] += 1
                latencies.append((time.perf_counter() - started) * 1000)

        began = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(conns)))
        elapsed = time.perf_counter() - began
    return {
        "client": "python", "requests": len(latencies),
        "requests_per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": _pct(latencies, .5), "p95_ms": _pct(latencies, .95),
        "p99_ms": _pct(latencies, .99), "statuses": dict(statuses),
    }  # fmt: skip


async def _openings_of(dsn: str, person: str, first: date, count: int) -> list[str]:
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT o.id FROM openings o JOIN registrations r ON r.group_id = o.group_id "
            "WHERE r.person_id = $1 AND o.day BETWEEN $2 AND $3 ORDER BY o.day, o.unit_id "
            "LIMIT $4",
            person, first, first + timedelta(days=6), count,
        )  # fmt: skip
    finally:
        await connection.close()
    return [r["id"] for r in rows]


async def _saves(gateway: str, dsn: str, children: list[tuple[str, str]], signer: TestSigner,
                 count: int, conns: int) -> dict[str, Any]:  # fmt: skip
    jobs = []
    for family, person in children[:count]:
        openings = await _openings_of(dsn, person, SAVE_WEEK, 10)
        changes = [{"person_id": person, "opening_id": o, "action": "book"} for o in openings]
        jobs.append((family, changes, signer.token(families=[family], ttl=3600)))
    latencies: list[float] = []
    applied: Counter[str] = Counter()
    semaphore = asyncio.Semaphore(conns)
    async with aiohttp.ClientSession() as http:

        async def one(family: str, changes: list[dict[str, str]], token: str) -> None:
            async with semaphore:
                started = time.perf_counter()
                async with http.post(
                    f"{gateway}/api/bookings/families/{family}/reservations/changes",
                    json={"changes": changes},
                    headers={
                        "Authorization": f"Bearer {token}",
                        "Idempotency-Key": uuid.uuid4().hex,
                    },
                ) as response:
                    body = await response.json()
                latencies.append((time.perf_counter() - started) * 1000)
                applied[str(response.status)] += 1
                if response.status == 200:
                    applied["changes_applied"] += body["applied"]

        began = time.perf_counter()
        await asyncio.gather(*(one(*job) for job in jobs))
        elapsed = time.perf_counter() - began
    return {
        "saves": len(jobs), "changes_per_save": 10, "saves_per_second":
        round(len(jobs) / elapsed, 1), "p50_ms": _pct(latencies, .5),
        "p95_ms": _pct(latencies, .95), "outcome": dict(applied),
    }  # fmt: skip


async def _rush(gateway: str, dsn: str, opening: str, children: list[tuple[str, str]],
                signer: TestSigner) -> dict[str, Any]:  # fmt: skip
    tokens = [signer.token(families=[f], ttl=3600) for f, _ in children]
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=120)
    ) as http:

        async def one(family: str, person: str, token: str) -> None:
            started = time.perf_counter()
            async with http.post(
                f"{gateway}/api/bookings/families/{family}/reservations/changes",
                json={"changes": [{"person_id": person, "opening_id": opening, "action": "book"}]},
                headers={"Authorization": f"Bearer {token}"},
            ) as response:
                body = await response.json()
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status != 200:
                statuses[str(response.status)] += 1
            else:
                statuses[body["results"][0].get("code") or "confirmed"] += 1

        began = time.perf_counter()
        await asyncio.gather(*(one(f, p, t) for (f, p), t in zip(children, tokens, strict=True)))
        elapsed = time.perf_counter() - began
    connection = await asyncpg.connect(dsn)
    try:
        booked = await connection.fetchval("SELECT booked FROM openings WHERE id = $1", opening)
        confirmed = await connection.fetchval(
            "SELECT count(*) FROM reservations WHERE opening_id = $1 AND state = 'confirmed'",
            opening,
        )
    finally:
        await connection.close()
    return {
        "attempts": len(children), "seconds": round(elapsed, 2),
        "attempts_per_second": round(len(children) / elapsed, 1), "outcome": dict(statuses),
        "booked": booked, "confirmed": confirmed, "p50_ms": _pct(latencies, .5),
        "p95_ms": _pct(latencies, .95), "p99_ms": _pct(latencies, .99),
    }  # fmt: skip


async def _bare(dsn: str, attempts: int, template: str) -> dict[str, Any]:
    connection = await asyncpg.connect(dsn)
    try:
        row = await connection.fetchrow(
            "SELECT activity_id, period_id, group_id, unit_id FROM openings WHERE id = $1", template
        )
        opening = str(uuid.uuid4())
        await connection.execute(
            "INSERT INTO openings (id, activity_id, period_id, group_id, unit_id, day, capacity,"
            " booked, closed) VALUES ($1, $2, $3, $4, $5, '2027-06-29', 20, 0, false)",
            opening, *row,
        )  # fmt: skip
    finally:
        await connection.close()
    pool = await asyncpg.create_pool(dsn, min_size=20, max_size=20)
    taken = 0
    try:

        async def one() -> None:
            nonlocal taken
            async with pool.acquire() as c:
                got = await c.fetchval(
                    "UPDATE openings SET booked = booked + 1 WHERE id = $1 AND booked < capacity"
                    " RETURNING booked",
                    opening,
                )
            taken += got is not None

        began = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(attempts)))
        elapsed = time.perf_counter() - began
    finally:
        await pool.close()
    return {"attempts": attempts, "seconds": round(elapsed, 3),
            "attempts_per_second": round(attempts / elapsed, 1), "taken": taken}  # fmt: skip


def _cpu_seconds(pids: list[int]) -> float:
    """CPU time (user + system) the processes have used so far (Linux /proc)."""
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


class _CpuMeter:
    """CPU milliseconds per request of the bookings and gateway processes (and of the outbox
    relay's, when it runs apart), phase by phase: a figure the machine's other load hardly
    changes (it does not wait for a core)."""

    def __init__(self, bookings: list[int], gateway: list[int], relay: list[int]) -> None:
        self.processes = {"bookings": bookings, "gateway": gateway, "relay": relay}

    def measure(self, phase, requests_of):  # type: ignore[no-untyped-def]
        before = {name: _cpu_seconds(pids) for name, pids in self.processes.items() if pids}
        result = phase()
        requests = max(requests_of(result), 1)
        result["cpu_ms_per_request"] = {
            name: round((_cpu_seconds(self.processes[name]) - spent) * 1000 / requests, 2)
            for name, spent in before.items()
        }
        return result


TEMPLATE = "pf_bench_bookings_town"
DATABASE = "pf_bench_bookings"


async def _kept_town(dsn: str, families: int, reservations: int) -> tuple[Town, float] | None:
    """The town the template holds, if it was seeded with these sizes."""
    try:
        connection = await asyncpg.connect(dsn)
    except asyncpg.InvalidCatalogNameError:
        return None
    try:
        row = await connection.fetchrow("SELECT town FROM bench_town")
    except asyncpg.UndefinedTableError:
        return None
    finally:
        await connection.close()
    kept = json.loads(row["town"]) if row else None
    if not kept or (kept["families"], kept["asked"]) != (families, reservations):
        return None
    town = Town(
        activity_id=kept["activity_id"],
        children=[tuple(c) for c in kept["children"]],  # type: ignore[misc]
        rush_opening=kept["rush_opening"],
        rush_children=[tuple(c) for c in kept["rush_children"]],  # type: ignore[misc]
        openings=kept["openings"],
        reservations=kept["reservations"],
    )
    return town, kept["seed_seconds"]


async def _keep_town(dsn: str, town: Town, families: int, reservations: int, seconds: float):  # type: ignore[no-untyped-def]
    document = {**town.__dict__, "families": families, "asked": reservations,
                "seed_seconds": seconds}  # fmt: skip
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("CREATE TABLE bench_town (town text)")
        await connection.execute("INSERT INTO bench_town VALUES ($1)", json.dumps(document))
    finally:
        await connection.close()


async def _copy_of_template() -> str:
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{DATABASE}" TEMPLATE "{TEMPLATE}"')
    finally:
        await connection.close()
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{DATABASE}"


def _town(families: int, reservations: int, fresh: bool) -> tuple[str, Town, float]:
    """A copy of the kept town (seeded first when missing, of other sizes, or `fresh`)."""
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    kept = None if fresh else run_async(_kept_town(f"{base}/{TEMPLATE}", families, reservations))
    if kept is None:
        url = run_async(recreate_database(TEMPLATE))
        dsn = url.replace("postgresql+asyncpg://", "postgresql://")
        subprocess.run(
            [sys.executable, "-m", "portail.cli", "migrate", "bookings"],
            env={**os.environ, "BOOKINGS_DATABASE_URL": url}, check=True, capture_output=True,
        )  # fmt: skip
        began = time.perf_counter()
        town = asyncio.run(seed(dsn, families=families, reservations=reservations))
        seconds = round(time.perf_counter() - began, 1)
        run_async(_keep_town(dsn, town, families, reservations, seconds))
        kept = (town, seconds)
    return run_async(_copy_of_template()), *kept


def main() -> None:
    """Seed, start, measure, write."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--families", type=int, default=10000)
    parser.add_argument("--reservations", type=int, default=1000000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--light-connections", type=int, nargs="+", default=[4, 8])
    parser.add_argument("--bookings-processes", type=int, default=1)
    parser.add_argument("--saves", type=int, default=200)
    parser.add_argument("--fresh-town", action="store_true")
    parser.add_argument(
        "--week-client", choices=["wrk", "python"],
        default="wrk" if shutil.which("wrk") else "python",
        help="what asks for the weeks: wrk (default when installed: it leaves the two cores to "
        "the portal) or the Python client (which costs about as much CPU as the gateway)",
    )  # fmt: skip
    parser.add_argument(
        "--relay-process", action="store_true",
        help="run the outbox relay as a process of its own (`portail outbox-relay bookings`, "
        "woken by PostgreSQL's NOTIFY, polling every 5 s as a safety net, as deployed) instead "
        "of inside the bookings process",
    )  # fmt: skip
    parser.add_argument(
        "--output", type=Path,
        help="write the results there instead of bench/results/bookings_reservations*.json",
    )  # fmt: skip
    parser.add_argument(
        "--phases",
        default="week,save,rush",
        help="of week,save: which to measure (the rush and bare UPDATE always run)",
    )
    parser.add_argument(
        "--py-spy", metavar="DIR",
        help="record the bookings and gateway processes with py-spy (path in $PY_SPY or on "
        "the PATH) into DIR, as collapsed stacks",
    )  # fmt: skip
    args = parser.parse_args()
    signer = TestSigner()
    url, town, seed_seconds = _town(args.families, args.reservations, args.fresh_town)
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    work = Path(tempfile.mkdtemp(prefix="pf-bench-bookings-"))
    (work / "limits.yaml").write_text(_limits())
    service_port, gateway_port = free_port(), free_port()
    common = {"PORTAIL_PROFILE": "test", "REDIS_URL": REDIS_URL,
              "JWKS_JSON": json.dumps(signer.jwks), "LOG_LEVEL": "WARNING"}  # fmt: skip
    gateway = f"http://127.0.0.1:{gateway_port}"
    load_before = os.getloadavg()
    with ExitStack() as stack:
        bookings_pids = []
        for n in range(args.bookings_processes):
            bookings_pids.append(stack.enter_context(process(
                [sys.executable, "-m", "services.bookings.app"],
                {**common, "BOOKINGS_DATABASE_URL": url, "BOOKINGS_PORT": str(service_port),
                 "GATEWAY_URL": gateway, "BOOKINGS_REUSE_PORT": "true",
                 "OUTBOX_RELAY_IN_PROCESS": str(not args.relay_process).lower()},
                work / f"bookings-{n}.log",
            )).pid)  # fmt: skip
        gateway_pid = stack.enter_context(process(
            [sys.executable, "-m", "gateway.app"],
            {**common, "GATEWAY_PORT": str(gateway_port),
             "BOOKINGS_SERVICE_URL": f"http://127.0.0.1:{service_port}",
             "GATEWAY_RATE_LIMITS_FILE": str(work / "limits.yaml"),
             # 1,000 connections opened at once overflow the service's accept queue; the
             # default 1 s connect timeout then answers 504 for requests never sent.
             "GATEWAY_UPSTREAM_CONNECT_TIMEOUT_SECONDS": "10"},
            work / "gateway.log",
        )).pid  # fmt: skip
        relay_pids = []
        if args.relay_process:
            relay_pids.append(stack.enter_context(process(
                [sys.executable, "-m", "portail.cli", "outbox-relay", "bookings"],
                {**common, "BOOKINGS_DATABASE_URL": url, "GATEWAY_URL": gateway,
                 "OUTBOX_RELAY_INTERVAL": str(RELAY_PROCESS_INTERVAL)},
                work / "relay.log",
            )).pid)  # fmt: skip
        cpu = _CpuMeter(bookings_pids, [gateway_pid], relay_pids)
        if args.py_spy:
            for name, pid in [*((f"bookings-{n}", p) for n, p in enumerate(bookings_pids)),
                              ("gateway", gateway_pid)]:  # fmt: skip
                stack.enter_context(process(
                    [os.environ.get("PY_SPY", "py-spy"), "record", "--pid", str(pid),
                     "--format", "raw", "--rate", "250", "--nonblocking",
                     "-o", str(Path(args.py_spy) / f"{name}.txt")],
                    {}, work / f"py-spy-{name}.log",
                ))  # fmt: skip
        wait_http(f"http://127.0.0.1:{service_port}/readyz")
        wait_http(f"{gateway}/healthz")
        tokens = [(f, p, signer.token(families=[f], ttl=3600)) for f, p in town.children[:300]]
        asyncio.run(_week(gateway, tokens, 2, args.connections))  # warm-up
        by_count = lambda result: result["requests"]  # noqa: E731
        week: dict[str, Any] = {}
        lights: list[dict[str, Any]] = [{}]
        saves: dict[str, Any] = {}
        phases = set(args.phases.split(","))
        if "week" in phases:

            def weeks(conns: int) -> dict[str, Any]:
                if args.week_client == "wrk":
                    return week_with_wrk(gateway, tokens, WEEK.isoformat(), args.seconds, conns)
                return asyncio.run(_week(gateway, tokens, args.seconds, conns))

            week = cpu.measure(lambda: weeks(args.connections), by_count)
            lights = [
                {**cpu.measure(lambda n=n: weeks(n), by_count), "connections": n}
                for n in args.light_connections
            ]
        if "save" in phases:
            saves = cpu.measure(
                lambda: asyncio.run(
                    _saves(gateway, dsn, town.children[300:], signer, args.saves, 8)
                ),
                lambda result: result["saves"],
            )
        rush = cpu.measure(
            lambda: asyncio.run(_rush(gateway, dsn, town.rush_opening, town.rush_children, signer)),
            lambda result: result["attempts"],
        )
        bare = event_loop.run(_bare(dsn, len(town.rush_children), town.rush_opening))
    report = {
        "bookings_processes": args.bookings_processes,
        "relay": "own process" if args.relay_process else "in the bookings process",
        "relay_poll_seconds": RELAY_PROCESS_INTERVAL if args.relay_process else None,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "event_loop": event_loop.chosen_loop(),
                    "load_average_before": [round(x, 2) for x in load_before],
                    "load_average_after": [round(x, 2) for x in os.getloadavg()]},
        "town": {"families": args.families, "children": len(town.children),
                 "openings": town.openings, "reservations": town.reservations,
                 "seed_seconds": seed_seconds},
        "week": {**week, "connections": args.connections},
        "week_light": lights[0], "week_light_others": lights[1:],
        "save_10": saves, "rush": rush, "bare_update": bare,
        "path_vs_bare": round(rush["attempts_per_second"] / bare["attempts_per_second"], 3),
    }  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "bookings_reservations" + (
        f"_{args.bookings_processes}_processes" if args.bookings_processes > 1 else ""
    )
    output = args.output or RESULTS / f"{name}.json"
    output.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
