"""The family page's calls through the gateway with 10,000 families in the database.

    uv run python -m bench.families_page [--families 10000] [--seconds 10] [--connections 32]

Starts the families service on PostgreSQL and the gateway (its whole middleware chain),
fills the database with `--families` households (two responsables and one or two children
each, a pending request for one in ten), then drives with wrk, each request as the parent
of a different family (tokens rotated by a Lua script):
- `family`: GET /api/families/families/{id} — the record with its field rules and pending fields;
- `persons`: GET /api/families/families/{id}/persons — the list of "Ma famille";
- `requests`: GET /api/families/families/{id}/requests — the requests and their state;
and the first call once more straight to the service, to see what the gateway adds.
Writes bench/results/families_page.json and prints a Markdown table (requests/s, p50, p95, p99).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import uuid
from contextlib import ExitStack
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg

from services.kit.testing import TestSigner

from .harness import RESULTS, free_port, process, recreate_database, run_async, wait_http

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
DATABASE = "pf_bench_families_page"
ROTATED_FAMILIES = 500
PERMISSIVE_LIMITS = """
buckets:
  default: {window: 60, per_ip: 100000000, per_identity: 100000000, fail_open: true}
rules: []
"""
LUA = """
local targets = {
%s
}
local i = 0
request = function()
  i = i + 1
  local t = targets[(i %% #targets) + 1]
  return wrk.format("GET", t[1], {["Authorization"] = "Bearer " .. t[2]})
end
done = function(summary, latency, requests)
  io.write(string.format("P50_US %%d\\nP95_US %%d\\nP99_US %%d\\n",
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


async def fill(url: str, count: int) -> list[str]:
    """Insert `count` households straight into the tables; returns their ids."""
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn)
    now = datetime.now(UTC)
    rng = random.Random(42)
    families, persons, members, requests = [], [], [], []
    for n in range(count):
        family_id = str(uuid.uuid4())
        name = f"FAMILLE{n:05d}"
        families.append(
            (family_id, name, f"{n} rue des Écoles", "64240", "Hasparren", "05 59 29 00 00",
             f"famille{n}@exemple.fr", "active", now, now, 1)
        )  # fmt: skip
        for role, first in [("responsable", "Ana"), ("responsable", "Beñat")] + [
            ("child", f"Enfant{k}") for k in range(rng.choice((1, 2)))
        ]:
            person_id = str(uuid.uuid4())
            birth = date(2015 + rng.randrange(8), 1 + rng.randrange(12), 1 + rng.randrange(28))
            persons.append(
                (person_id, role, first, name, birth if role == "child" else None, now, now, 1)
            )
            members.append((family_id, person_id, now))
        if n % 10 == 0:
            change = [{"field": "phone", "old": "05 59 29 00 00", "new": "06 11 22 33 44"}]
            requests.append(
                (str(uuid.uuid4()), family_id, "family", "pending", 1, json.dumps(change),
                 f"parent-{n}", now, 1)
            )  # fmt: skip
    try:
        await connection.executemany(
            "INSERT INTO families (id, name, address, postal_code, city, phone, email, status,"
            " created_at, updated_at, version) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
            families,
        )
        await connection.executemany(
            "INSERT INTO persons (id, role, first_name, last_name, birth_date, created_at,"
            " updated_at, version) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
            persons,
        )
        await connection.executemany(
            "INSERT INTO family_members (family_id, person_id, created_at) VALUES ($1,$2,$3)",
            members,
        )
        await connection.executemany(
            "INSERT INTO change_requests (id, family_id, target, state, base_version, changes,"
            " submitted_by, submitted_at, version) VALUES ($1,$2,$3,$4,$5,$6::json,$7,$8,$9)",
            requests,
        )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return [f[0] for f in families]


def run_wrk_rotating(
    base: str, suffix: str, family_ids: list[str], signer: TestSigner, *, seconds: int,
    connections: int, work: Path, prefix: str = "/api/families",
) -> dict[str, float]:  # fmt: skip
    """wrk over many families, each request with its own family's token; p50/p95/p99 in ms."""
    lines = [
        f'  {{"{prefix}/families/{fid}{suffix}", "{signer.token(families=[fid], ttl=3600)}"}},'
        for fid in family_ids
    ]
    script = work / f"rotate{prefix.replace('/', '_')}{suffix.replace('/', '_')}.lua"
    script.write_text(LUA % "\n".join(lines))
    report = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
         "-s", str(script), base],
        capture_output=True, text=True, check=True, timeout=seconds + 60,
    ).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", report).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", report)
    errors = re.search(r"Socket errors:.*?(\d+).*?(\d+).*?(\d+).*?(\d+)", report)
    percentiles = {
        key: int(re.search(rf"{key}_US (\d+)", report).group(1)) / 1000  # type: ignore[union-attr]
        for key in ("P50", "P95", "P99")
    }
    return {
        "requests_per_second": rps,
        "p50_ms": percentiles["P50"],
        "p95_ms": percentiles["P95"],
        "p99_ms": percentiles["P99"],
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": sum(int(g) for g in errors.groups()) if errors else 0,
    }


def main() -> None:
    """Fill the database, start the service and the gateway, measure, write the results."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--families", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()

    signer = TestSigner()
    database_url = run_async(recreate_database(DATABASE))
    service_port, gateway_port = free_port(), free_port()
    work = Path(tempfile.mkdtemp(prefix="pf-bench-families-"))
    limits = work / "rate_limits.yaml"
    limits.write_text(PERMISSIVE_LIMITS)
    common = {
        "PORTAIL_PROFILE": "test",
        "REDIS_URL": REDIS_URL,
        "JWKS_JSON": json.dumps(signer.jwks),
        "LOG_LEVEL": "WARNING",
    }
    subprocess.run(
        [sys.executable, "-m", "portail.cli", "migrate", "families"],
        env={**os.environ, "FAMILIES_DATABASE_URL": database_url},
        check=True,
        capture_output=True,
    )
    family_ids = run_async(fill(database_url, args.families))
    rotated = random.Random(7).sample(family_ids, min(ROTATED_FAMILIES, len(family_ids)))

    results = {}
    with ExitStack() as stack:
        stack.enter_context(
            process(
                [sys.executable, "-m", "services.families.app"],
                {**common, "FAMILIES_DATABASE_URL": database_url,
                 "FAMILIES_PORT": str(service_port)},
                work / "families.log",
            )
        )  # fmt: skip
        stack.enter_context(
            process(
                [sys.executable, "-m", "gateway.app"],
                {**common, "GATEWAY_PORT": str(gateway_port),
                 "FAMILIES_SERVICE_URL": f"http://127.0.0.1:{service_port}",
                 "GATEWAY_RATE_LIMITS_FILE": str(limits)},
                work / "gateway.log",
            )
        )  # fmt: skip
        direct = f"http://127.0.0.1:{service_port}"
        wait_http(f"{direct}/readyz")
        gateway = f"http://127.0.0.1:{gateway_port}"
        wait_http(f"{gateway}/healthz")
        for name, suffix in (("family", ""), ("persons", "/persons"), ("requests", "/requests")):
            run_wrk_rotating(gateway, suffix, rotated, signer, seconds=2,
                             connections=args.connections, work=work)  # fmt: skip
            results[name] = run_wrk_rotating(
                gateway, suffix, rotated, signer, seconds=args.seconds,
                connections=args.connections, work=work,
            )  # fmt: skip
        # The same first call without the gateway, to see what the gateway adds.
        results["family (direct, no gateway)"] = run_wrk_rotating(
            direct, "", rotated, signer, seconds=args.seconds, connections=args.connections,
            work=work, prefix="",
        )  # fmt: skip

    report = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "families_in_database": args.families,
        "families_rotated": len(rotated),
        "seconds": args.seconds,
        "connections": args.connections,
        "results": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "families_page.json").write_text(json.dumps(report, indent=2) + "\n")
    print(
        "| call (through the gateway) | requests/s | p50 ms | p95 ms | p99 ms | non-2xx | errors |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        print(
            f"| {name} | {r['requests_per_second']:,.0f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} "
            f"| {r['p99_ms']:.1f} | {r['non_2xx']} | {r['socket_errors']} |"
        )


if __name__ == "__main__":
    main()
