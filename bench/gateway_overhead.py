"""The gateway's overhead: one service endpoint called directly, through the gateway, through nginx.

    uv run python -m bench.gateway_overhead [--seconds 10] [--connections 64]

Starts the families service (PostgreSQL), the gateway (Redis, its whole middleware chain:
request id, logs, metrics, rate limits, identity forwarding, security headers) and, when
installed, nginx as a plain reverse proxy; drives each with wrk in the same run; writes
bench/results/gateway_overhead.json and prints a Markdown table for docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path

from services.kit.testing import TestSigner

from .harness import RESULTS, free_port, process, recreate_database, run_async, run_wrk, wait_http

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
PERMISSIVE_LIMITS = """
buckets:
  default: {window: 60, per_ip: 100000000, per_identity: 100000000, fail_open: true}
rules: []
"""


def _nginx_config(directory: Path, listen: int, upstream: int) -> Path:
    config = directory / "nginx.conf"
    config.write_text(
        f"""
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
daemon off;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {directory};
  proxy_temp_path {directory};
  upstream families {{ server 127.0.0.1:{upstream}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{listen};
    location / {{
      proxy_pass http://families;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
  }}
}}
"""
    )
    return config


def _create_family(url: str, token: str) -> str:
    request = urllib.request.Request(
        f"{url}/families",
        data=json.dumps({"name": "BENCH"}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return str(json.load(response)["id"])


def main() -> None:
    """Run the three measurements and write the results."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()

    signer = TestSigner()
    database_url = run_async(recreate_database("pf_bench_gateway_families"))
    service_port, gateway_port, nginx_port = free_port(), free_port(), free_port()
    work = Path(tempfile.mkdtemp(prefix="pf-bench-"))
    limits = work / "rate_limits.yaml"
    limits.write_text(PERMISSIVE_LIMITS)
    common = {
        "PORTAIL_PROFILE": "test",
        "REDIS_URL": REDIS_URL,
        "JWKS_JSON": json.dumps(signer.jwks),
        "LOG_LEVEL": "WARNING",
    }

    with ExitStack() as stack:
        subprocess.run(
            [sys.executable, "-m", "portail.cli", "migrate", "families"],
            env={**os.environ, "FAMILIES_DATABASE_URL": database_url},
            check=True,
            capture_output=True,
        )
        stack.enter_context(
            process(
                [sys.executable, "-m", "services.families.app"],
                {
                    **common,
                    "FAMILIES_DATABASE_URL": database_url,
                    "FAMILIES_PORT": str(service_port),
                },
                work / "families.log",
            )
        )
        stack.enter_context(
            process(
                [sys.executable, "-m", "gateway.app"],
                {
                    **common,
                    "GATEWAY_PORT": str(gateway_port),
                    "FAMILIES_SERVICE_URL": f"http://127.0.0.1:{service_port}",
                    "GATEWAY_RATE_LIMITS_FILE": str(limits),
                },
                work / "gateway.log",
            )
        )
        direct = f"http://127.0.0.1:{service_port}"
        gateway = f"http://127.0.0.1:{gateway_port}"
        wait_http(f"{direct}/readyz")
        wait_http(f"{gateway}/healthz")
        staff = signer.token(role="staff", ttl=3600)
        family_id = _create_family(direct, staff)
        token = signer.token(families=[family_id], ttl=3600)
        headers = {"Authorization": f"Bearer {token}"}
        targets = {
            "direct": f"{direct}/families/{family_id}",
            "gateway": f"{gateway}/api/families/families/{family_id}",
        }
        if shutil.which("nginx"):
            config = _nginx_config(work, nginx_port, service_port)
            stack.enter_context(process(["nginx", "-c", str(config)], {}, work / "nginx.log"))
            wait_http(f"http://127.0.0.1:{nginx_port}/healthz")
            targets["nginx"] = f"http://127.0.0.1:{nginx_port}/families/{family_id}"

        results, latency = {}, {}
        for name, url in targets.items():
            run_wrk(url, headers=headers, seconds=2, connections=args.connections)  # warm-up
            results[name] = run_wrk(
                url, headers=headers, seconds=args.seconds, connections=args.connections
            )
            # One request at a time: the added latency itself, without queueing.
            latency[name] = run_wrk(
                url, headers=headers, seconds=max(3, args.seconds // 2), connections=1
            )

    report = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "seconds": args.seconds,
        "connections": args.connections,
        "results": {name: asdict(result) for name, result in results.items()},
        "one_connection": {name: asdict(result) for name, result in latency.items()},
    }
    if "nginx" in results:
        report["gateway_vs_nginx_throughput"] = round(
            results["gateway"].requests_per_second / results["nginx"].requests_per_second, 3
        )
    report["gateway_added_p50_ms_one_connection"] = round(
        latency["gateway"].p50_ms - latency["direct"].p50_ms, 2
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "gateway_overhead.json").write_text(json.dumps(report, indent=2) + "\n")

    print("| path | requests/s | p50 ms | p99 ms | non-2xx | socket errors |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, table in ((f"{args.connections} connections", results), ("1 connection", latency)):
        for name, result in table.items():
            print(
                f"| {name} ({label}) | {result.requests_per_second:,.0f} | {result.p50_ms:.2f} | "
                f"{result.p99_ms:.2f} | {result.non_2xx} | {result.errors} |"
            )
    print(json.dumps({k: v for k, v in report.items() if k != "results"}))


if __name__ == "__main__":
    main()
