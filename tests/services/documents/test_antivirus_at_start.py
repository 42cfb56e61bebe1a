"""In prod, the documents service and the worker refuse to start without an antivirus unless
the operator says DOCUMENTS_ANTIVIRUS=off, which each then says at start: the real processes,
started as the deployments start them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from portail.registry import ROOT
from tests.support import POSTGRES_ADMIN_URL, free_port, redis_url

from .test_settings import PROD

# Two cores shared by several test runs: importing every service may take a while.
START_TIMEOUT_SECONDS = 180.0
pytestmark = pytest.mark.timeout(START_TIMEOUT_SECONDS + 60)
REFUSAL = "CLAMD_HOST is required in prod"
SERVICE = [sys.executable, "-m", "services.documents.app"]
WORKER = [sys.executable, "-m", "portail.cli", "worker", "--concurrency=1"]


def _prod_env(**extra: str) -> dict[str, str]:
    """This environment without any antivirus or S3 setting of its own, plus prod's."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("CLAMD_", "DOCUMENTS_", "S3_", "WORKER_"))
    }
    return {
        **env,
        **PROD,
        "DOCUMENTS_DATABASE_URL": POSTGRES_ADMIN_URL.replace("postgresql:", "postgresql+asyncpg:"),
        "REDIS_URL": redis_url(),
        "DOCUMENTS_PORT": str(free_port()),
        # Nothing else runs: no bucket to create, no outbox to relay from this process.
        "S3_CREATE_BUCKET": "false",
        "OUTBOX_RELAY_IN_PROCESS": "false",
        # The worker also checks the notifications' settings at start: give it theirs.
        "NOTIFICATIONS_DATABASE_URL": POSTGRES_ADMIN_URL.replace(
            "postgresql:", "postgresql+asyncpg:"
        ),
        "NOTIFICATIONS_CAPTCHA_SECRET": "x" * 40,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_FROM": "Portail <no-reply@example.org>",
        "PUBLIC_BASE_URL": "https://portail.example.org",
        **extra,
    }


def _refused(argv: list[str]) -> tuple[int, str]:
    """Start `argv` without antivirus; its exit status and error output once it stopped."""
    process = subprocess.Popen(
        argv,
        cwd=ROOT,
        env=_prod_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _, errors = process.communicate(timeout=START_TIMEOUT_SECONDS)
    finally:
        _stop(process)
    return process.returncode, errors


def _stop(process: subprocess.Popen[str] | subprocess.Popen[bytes]) -> None:
    """Stop the process and its children (a worker's pool), if still there."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _starts_and_says(argv: list[str], line: str, log: Path) -> str:
    """Start `argv` with the opt-out, wait until its output has `line`, stop it; its output."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=_prod_env(DOCUMENTS_ANTIVIRUS="off"),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while line not in log.read_text(errors="replace"):
            assert process.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, f"no {line!r} within {START_TIMEOUT_SECONDS} s"
            time.sleep(0.2)
    finally:
        _stop(process)
    return log.read_text(errors="replace")


@pytest.mark.parametrize("argv", [SERVICE, WORKER], ids=["documents", "worker"])
def test_prod_refuses_to_start_without_an_antivirus(argv: list[str]) -> None:
    status, errors = _refused(argv)

    assert status == 2, errors
    assert REFUSAL in errors
    assert "DOCUMENTS_ANTIVIRUS=off" in errors


def test_the_service_starts_with_the_opt_out_and_says_so(tmp_path: Path) -> None:
    output = _starts_and_says(SERVICE, "Running on http://", tmp_path / "documents.log")
    assert '"msg": "antivirus_off"' in output
    assert '"level": "warning"' in output


def test_the_worker_starts_with_the_opt_out_and_says_so(tmp_path: Path) -> None:
    output = _starts_and_says(WORKER, " ready.", tmp_path / "worker.log")
    assert '"msg": "antivirus_off"' in output
