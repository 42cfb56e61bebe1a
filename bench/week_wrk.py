"""One child's week driven by wrk instead of the Python client.

The Python client runs on the same two cores as the gateway, the service and PostgreSQL, and
spends about as much CPU per request as the gateway does; wrk, in C, spends a fraction of
that, so its figures say more about the portal and less about the load generator. Same
requests as `_week` in bookings_reservations: the tokens' children in turn, one week each.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

LUA = Path(__file__).resolve().parent / "lua" / "rotating_get.lua"


def week_with_wrk(
    gateway: str, tokens: list[tuple[str, str, str]], starts_on: str, seconds: int, conns: int
) -> dict[str, Any]:
    """Requests/s and p50/p95/p99 of `conns` connections asking for weeks for `seconds`."""
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk (or --week-client python)")
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        for family, person, token in tokens:
            path = f"/api/bookings/families/{family}/persons/{person}/planning"
            listing.write(f"{path}?starts_on={starts_on} {token}\n")
    report = subprocess.run(
        ["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--timeout", "10s", "-s", str(LUA),
         gateway],
        capture_output=True, text=True, check=True, timeout=seconds + 30,
        env={"WRK_REQUESTS": listing.name, "PATH": "/usr/bin:/bin"},
    ).stdout  # fmt: skip
    Path(listing.name).unlink()
    found = re.search(r"^BENCH (.*)$", report, re.M)
    if found is None:
        raise RuntimeError(f"wrk printed no BENCH line:\n{report}")
    figures = {key: float(value) for key, value in re.findall(r"(\w+)=([\d.]+)", found[1])}
    requests = int(figures["requests"])
    failed = int(figures["non_2xx"]) + int(figures["socket_errors"])
    if failed:
        # Errors answer fast: a run with many would look fast and mean nothing.
        print(f"week_with_wrk: {failed} of {requests} requests failed", file=sys.stderr)
    return {
        "client": "wrk",
        "requests": requests,
        "requests_per_second": round(requests / figures["seconds"], 1),
        "p50_ms": round(figures["p50_us"] / 1000, 1),
        "p95_ms": round(figures["p95_us"] / 1000, 1),
        "p99_ms": round(figures["p99_us"] / 1000, 1),
        "statuses": {"2xx": requests - int(figures["non_2xx"]), "other": failed},
    }
