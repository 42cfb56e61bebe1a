"""Uploads through the gateway: 1 MB files per second, and memory while 20 × 10 MB run at once.

    uv run python -m bench.documents_upload [--seconds 10] [--concurrency 8]

Starts moto's S3 server, the documents service (PostgreSQL) and the gateway as separate
processes; sends real multipart uploads of valid PDFs to `/api/documents/…/files` with a
family's bearer token; samples the resident memory (VmRSS) of the gateway and of the
service every 20 ms. Writes bench/results/documents_upload.json and prints a Markdown table
for docs/documents.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import aiohttp

from services.kit.testing import TestSigner

from .harness import RESULTS, free_port, process, recreate_database, run_async, wait_http

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
PERMISSIVE_LIMITS = """
buckets:
  default: {window: 60, per_ip: 100000000, per_identity: 100000000, fail_open: true}
rules: []
"""
MB = 1_000_000


def pdf_of_size(size: int) -> bytes:
    """A valid one-page PDF of about `size` bytes (the bulk is an opaque content stream)."""
    payload = os.urandom(max(0, size - 600)).replace(b"endstream", b"endstreaX")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(payload), payload),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def rss_mb(pid: int) -> float:
    """The resident memory of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _post_json(url: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.load(response))


async def _upload(session: aiohttp.ClientSession, url: str, data: bytes) -> int:
    form = aiohttp.FormData()
    form.add_field("file", data, filename="bench.pdf", content_type="application/pdf")
    async with session.post(url, data=form) as response:
        await response.read()
        return response.status


async def _upload_like_the_page(
    session: aiohttp.ClientSession, url: str, data: bytes, busy: list[int]
) -> int:
    """As the page's script does: on 429, wait `Retry-After` and try again (4 tries)."""
    for _ in range(4):
        form = aiohttp.FormData()
        form.add_field("file", data, filename="bench.pdf", content_type="application/pdf")
        async with session.post(url, data=form) as response:
            await response.read()
            if response.status != 429:
                return response.status
            busy.append(1)
            await asyncio.sleep(int(response.headers.get("Retry-After", "5")))
    return 429


async def throughput(url: str, token: str, seconds: int, concurrency: int) -> dict[str, Any]:
    """1 MB uploads for `seconds` with `concurrency` clients: uploads/s and latency."""
    data = pdf_of_size(MB)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    deadline = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(headers=headers) as session:

        async def worker() -> None:
            while time.monotonic() < deadline:
                started = time.monotonic()
                status = await _upload(session, url, data)
                latencies.append(time.monotonic() - started)
                statuses[status] = statuses.get(status, 0) + 1

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.monotonic() - started
    latencies.sort()
    ok = statuses.get(201, 0)
    return {
        "uploads_per_second": round(ok / elapsed, 2),
        "megabytes_per_second": round(ok * len(data) / MB / elapsed, 2),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
        "p95_ms": round(latencies[int(len(latencies) * 0.95)] * 1000, 1),
        "statuses": statuses,
    }


async def memory_under_burst(
    url: str, token: str, pids: dict[str, int], uploads: int = 20
) -> dict[str, Any]:
    """`uploads` concurrent 10 MB uploads (retried on 429 like the page); RSS of each process."""
    data = pdf_of_size(10 * MB)
    baseline = {name: rss_mb(pid) for name, pid in pids.items()}
    peak = dict(baseline)
    done = asyncio.Event()

    async def sample() -> None:
        while not done.is_set():
            for name, pid in pids.items():
                peak[name] = max(peak[name], rss_mb(pid))
            await asyncio.sleep(0.02)

    sampler = asyncio.create_task(sample())
    started = time.monotonic()
    timeout = aiohttp.ClientTimeout(total=300)
    async with aiohttp.ClientSession(
        headers={"Authorization": f"Bearer {token}"}, timeout=timeout
    ) as session:
        busy: list[int] = []
        statuses = await asyncio.gather(
            *(_upload_like_the_page(session, url, data, busy) for _ in range(uploads))
        )
    elapsed = time.monotonic() - started
    done.set()
    await sampler
    return {
        "uploads": uploads,
        "file_mb": 10,
        "seconds": round(elapsed, 2),
        "statuses": {str(s): statuses.count(s) for s in set(statuses)},
        "busy_answers_retried": len(busy),
        "baseline_rss_mb": {k: round(v, 1) for k, v in baseline.items()},
        "peak_rss_mb": {k: round(v, 1) for k, v in peak.items()},
        "growth_mb": {k: round(peak[k] - baseline[k], 1) for k in pids},
    }


def main() -> None:
    """Run both measurements and write the results."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    signer = TestSigner()
    database_url = run_async(recreate_database("pf_bench_documents"))
    s3_port, service_port, gateway_port = free_port(), free_port(), free_port()
    work = Path(tempfile.mkdtemp(prefix="pf-bench-docs-"))
    limits = work / "rate_limits.yaml"
    limits.write_text(PERMISSIVE_LIMITS)
    common = {
        "PORTAIL_PROFILE": "test",
        "REDIS_URL": REDIS_URL,
        "JWKS_JSON": json.dumps(signer.jwks),
        "LOG_LEVEL": "WARNING",
    }
    s3 = {
        "S3_ENDPOINT_URL": f"http://127.0.0.1:{s3_port}",
        "S3_BUCKET": f"bench-{uuid.uuid4().hex[:8]}",
    }

    with ExitStack() as stack:
        stack.enter_context(
            process(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(s3_port)],
                {},
                work / "s3.log",
            )
        )
        subprocess.run(
            [sys.executable, "-m", "portail.cli", "migrate", "documents"],
            env={**os.environ, "DOCUMENTS_DATABASE_URL": database_url},
            check=True,
            capture_output=True,
        )
        wait_http(f"http://127.0.0.1:{s3_port}/moto-api/")
        service = stack.enter_context(
            process(
                [sys.executable, "-m", "services.documents.app"],
                {
                    **common,
                    **s3,
                    "DOCUMENTS_DATABASE_URL": database_url,
                    "DOCUMENTS_PORT": str(service_port),
                },
                work / "documents.log",
            )
        )
        gateway = stack.enter_context(
            process(
                [sys.executable, "-m", "gateway.app"],
                {
                    **common,
                    "GATEWAY_PORT": str(gateway_port),
                    "DOCUMENTS_SERVICE_URL": f"http://127.0.0.1:{service_port}",
                    "GATEWAY_RATE_LIMITS_FILE": str(limits),
                    "GATEWAY_UPSTREAM_DEADLINE_SECONDS": "60",
                },
                work / "gateway.log",
            )
        )
        direct = f"http://127.0.0.1:{service_port}"
        wait_http(f"{direct}/readyz")
        wait_http(f"http://127.0.0.1:{gateway_port}/healthz")
        staff = signer.token(role="staff", ttl=3600)
        kind = _post_json(
            f"{direct}/document-types", staff, {"name": "Bench", "concerns": "family"}
        )
        family_id = str(uuid.uuid4())
        token = signer.token(families=[family_id], ttl=3600)
        url = (
            f"http://127.0.0.1:{gateway_port}/api/documents/families/{family_id}"
            f"/documents/{kind['id']}/files"
        )
        run_async(throughput(url, token, 2, args.concurrency))  # warm-up
        rate = run_async(throughput(url, token, args.seconds, args.concurrency))
        memory = run_async(
            memory_under_burst(url, token, {"gateway": gateway.pid, "documents": service.pid})
        )

    report = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "concurrency": args.concurrency,
        "one_mb_uploads": rate,
        "twenty_ten_mb_uploads": memory,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "documents_upload.json").write_text(json.dumps(report, indent=2) + "\n")
    print("| measure | value |")
    print("|---|---:|")
    print(f"| 1 MB uploads/s ({args.concurrency} clients) | {rate['uploads_per_second']} |")
    print(f"| 1 MB upload p50 / p95 ms | {rate['p50_ms']} / {rate['p95_ms']} |")
    for name in ("gateway", "documents"):
        print(
            f"| {name} RSS during 20 × 10 MB: baseline → peak MB | "
            f"{memory['baseline_rss_mb'][name]} → {memory['peak_rss_mb'][name]} |"
        )
    print(
        f"| 20 × 10 MB: all sent in (s), 429 retried | "
        f"{memory['seconds']}, {memory['busy_answers_retried']} |"
    )
    print(json.dumps({"statuses": rate["statuses"], "burst": memory["statuses"]}))


if __name__ == "__main__":
    main()
