"""Sign-ins per second with the chosen Argon2id parameters, and the CPU share they take.

    uv run python -m bench.auth_signin [--seconds 10] [--concurrency 4]

Starts the auth service as its own process on PostgreSQL and Redis (throttles opened wide),
creates one active account, then signs in over HTTP with `--concurrency` parallel clients
for `--seconds`. Reports sign-ins/s, latency percentiles, the service's CPU time over the
run as a share of the machine (all cores), and one bare Argon2id verification for scale.
Writes bench/results/auth_signin.json and prints a Markdown table for docs/auth.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from contextlib import ExitStack

import aiohttp

from services.auth.config import AuthSettings
from services.auth.runtime import standalone
from services.auth.service import invite_family
from services.auth.sessions import activate_with_password

from .harness import RESULTS, free_port, process, recreate_database, run_async, wait_http

REDIS_URL = os.environ.get("BENCH_AUTH_REDIS_URL", "redis://127.0.0.1:6379/14")
EMAIL = "bench@example.org"
PASSWORD = "throughput measuring passphrase"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


async def _prepare(settings: AuthSettings) -> None:
    async with standalone(settings) as auth:
        async with auth.database.transaction() as session:
            invitation = await invite_family(
                auth, session, email=EMAIL, family_id="bench", rights=("book",), actor="bench"
            )
        await activate_with_password(auth, account_id=invitation.account.id, password=PASSWORD)


async def _drive(url: str, seconds: float, concurrency: int) -> tuple[int, int, list[float]]:
    latencies: list[float] = []
    failures = 0
    deadline = time.monotonic() + seconds
    body = {"email": EMAIL, "password": PASSWORD}

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal failures
        while time.monotonic() < deadline:
            started = time.perf_counter()
            async with session.post(url, json=body) as response:
                await response.read()
                if response.status == 201:
                    latencies.append(time.perf_counter() - started)
                else:
                    failures += 1

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return len(latencies), failures, latencies


def _bare_verify_ms(settings: AuthSettings) -> float:
    from argon2 import PasswordHasher

    hasher = PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
    )
    stored = hasher.hash(PASSWORD)
    started = time.perf_counter()
    for _ in range(20):
        hasher.verify(stored, PASSWORD)
    return (time.perf_counter() - started) / 20 * 1000


def main() -> None:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    database_url = run_async(recreate_database("bench_auth_signin"))
    port = free_port()
    env = {
        "PORTAIL_PROFILE": "dev",
        "AUTH_DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "AUTH_KEY_ENCRYPTION_KEY": "bench-key-encryption-key-0123456789abcdef",
        "AUTH_PORT": str(port),
        "AUTH_IP_ATTEMPTS_LIMIT": "100000000",
        "AUTH_ACCOUNT_FAILURES_LIMIT": "100",
        "RUN_MIGRATIONS_AT_START": "1",
        "LOG_LEVEL": "WARNING",
        "JWKS_JSON": '{"keys": []}',
    }
    os.environ.update({k: v for k, v in env.items() if k != "AUTH_PORT"})
    settings = AuthSettings()
    RESULTS.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        child = stack.enter_context(
            process(
                [sys.executable, "-m", "services.auth.app"], env, RESULTS / "auth_signin.log.tmp"
            )
        )
        wait_http(f"http://127.0.0.1:{port}/healthz")
        wait_http(f"http://127.0.0.1:{port}/.well-known/jwks.json")
        run_async(_prepare(settings))
        url = f"http://127.0.0.1:{port}/sessions"
        run_async(_drive(url, 1.0, args.concurrency))  # warm-up
        cpu_before, wall_before = _cpu_seconds(child.pid), time.monotonic()
        count, failures, latencies = run_async(_drive(url, args.seconds, args.concurrency))
        cpu = _cpu_seconds(child.pid) - cpu_before
        wall = time.monotonic() - wall_before
    cores = os.cpu_count() or 1
    latencies.sort()
    result = {
        "machine": f"{platform.processor() or platform.machine()}, {cores} cores",
        # Other work on the machine inflates every figure below: the 1-minute load average.
        "load_average_before": round(load_before, 2),
        "argon2": {
            "memory_kib": settings.argon2_memory_kib,
            "time_cost": settings.argon2_time_cost,
            "parallelism": settings.argon2_parallelism,
            "bare_verify_ms": round(_bare_verify_ms(settings), 1),
        },
        "concurrency": args.concurrency,
        "seconds": round(wall, 1),
        "sign_ins": count,
        "failures": failures,
        "sign_ins_per_second": round(count / wall, 1),
        "latency_p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "latency_p95_ms": round(latencies[int(len(latencies) * 0.95)] * 1000, 1)
        if latencies
        else None,
        "service_cpu_seconds": round(cpu, 2),
        "service_cpu_share_of_machine": round(cpu / (wall * cores), 3),
        "cpu_ms_per_sign_in": round(cpu / max(count, 1) * 1000, 1),
    }
    (RESULTS / "auth_signin.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print()
    print("| Argon2id | bare verify | sign-ins/s | p50 | p95 | CPU per sign-in | CPU share |")
    print("|---|---|---|---|---|---|---|")
    a = result["argon2"]
    print(
        f"| m={a['memory_kib']} KiB, t={a['time_cost']}, p={a['parallelism']} "
        f"| {a['bare_verify_ms']} ms | {result['sign_ins_per_second']} "
        f"| {result['latency_p50_ms']} ms | {result['latency_p95_ms']} ms "
        f"| {result['cpu_ms_per_sign_in']} ms | {result['service_cpu_share_of_machine']:.0%} |"
    )


if __name__ == "__main__":
    main()
