"""In prod, a worker whose notifications settings are incomplete refuses to start (status 2,
naming what is missing) instead of starting and failing every e-mail task: the real process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from portail.registry import ROOT
from tests.support import POSTGRES_ADMIN_URL, redis_url

# Two cores shared by several test runs: importing every service may take a while.
START_TIMEOUT_SECONDS = 180.0
pytestmark = pytest.mark.timeout(START_TIMEOUT_SECONDS + 60)
WORKER = [sys.executable, "-m", "portail.cli", "worker", "--concurrency=1"]


def _prod_env_without_smtp() -> dict[str, str]:
    """Prod, every setting the worker's tasks read, but the SMTP server's."""
    kept = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SMTP_", "NOTIFICATIONS_", "DOCUMENTS_", "CLAMD_", "S3_"))
    }
    database = POSTGRES_ADMIN_URL.replace("postgresql:", "postgresql+asyncpg:")
    return {
        **kept,
        "PORTAIL_PROFILE": "prod",
        "REDIS_URL": redis_url(),
        "JWKS_URL": "http://auth.invalid/.well-known/jwks.json",
        "PUBLIC_BASE_URL": "https://portail.example.org",
        "NOTIFICATIONS_DATABASE_URL": database,
        "NOTIFICATIONS_CAPTCHA_SECRET": "x" * 40,
        "SMTP_FROM": "Portail <no-reply@example.org>",
        # The documents tasks' own start check passes: this test is about notifications'.
        "DOCUMENTS_DATABASE_URL": database,
        "DOCUMENTS_ANTIVIRUS": "off",
        "S3_ENDPOINT_URL": "https://s3.example.org",
        "S3_ACCESS_KEY_ID": "key",
        "S3_SECRET_ACCESS_KEY": "secret",
        "S3_BUCKET": "documents",
    }


def test_a_worker_without_an_smtp_server_in_prod_refuses_to_start() -> None:
    process = subprocess.Popen(
        WORKER,
        cwd=ROOT,
        env=_prod_env_without_smtp(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _, errors = process.communicate(timeout=START_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        pytest.fail("the worker started without SMTP_HOST in prod")

    assert process.returncode == 2, errors
    assert "NotificationsSettings" in errors and "SMTP_HOST" in errors
