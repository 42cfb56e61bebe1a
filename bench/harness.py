"""Start real processes for a benchmark and drive them with wrk; bounded and self-stopping."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 30.0) -> None:
    """Block until `url` answers 200, or raise."""
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not become ready")


@contextlib.contextmanager
def process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A child process for the duration of the block, stopped (then killed) afterwards."""
    with log.open("wb") as output:
        child = subprocess.Popen(
            args, env={**os.environ, **env}, stdout=output, stderr=output, cwd=ROOT
        )
        try:
            yield child
        finally:
            child.send_signal(signal.SIGINT)
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


async def recreate_database(name: str) -> str:
    """An empty PostgreSQL database for the benchmark; returns its SQLAlchemy URL."""
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{name}"


@dataclass(frozen=True)
class WrkResult:
    """What wrk measured for one target."""

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: int


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def _percentile(report: str, percent: int) -> float:
    """A latency of wrk's distribution, in ms, read from the distribution's own lines (a thread
    stat such as « 85.50% » ends in « 50% » too)."""
    found = re.search(rf"^\s*{percent}%\s+(\S+)\s*$", report, re.M)
    if found is None:
        raise RuntimeError(f"no {percent}% line in wrk's report:\n{report}")
    return _ms(found.group(1))


def run_wrk(
    url: str, *, headers: dict[str, str], seconds: int, connections: int, threads: int = 1
) -> WrkResult:
    """Drive `url` with wrk and parse its report."""
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    args = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    report = subprocess.run(
        [*args, url], capture_output=True, text=True, check=True, timeout=seconds + 30
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", report).group(1))  # type: ignore[union-attr]
    p50, p99 = _percentile(report, 50), _percentile(report, 99)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", report)
    errors = re.search(r"Socket errors:.*?(\d+).*?(\d+).*?(\d+).*?(\d+)", report)
    return WrkResult(
        requests_per_second=rps,
        p50_ms=p50,
        p99_ms=p99,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        errors=sum(int(g) for g in errors.groups()) if errors else 0,
    )


def run_async(coroutine):  # type: ignore[no-untyped-def]
    """asyncio.run, for the benchmark scripts' few async steps."""
    return asyncio.run(coroutine)
