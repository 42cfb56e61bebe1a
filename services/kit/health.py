"""Liveness (/healthz, touches nothing) and readiness (/readyz, checks every dependency)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web

from .keys import READINESS

Check = Callable[[], Awaitable[None]]
READINESS_TIMEOUT_SECONDS = 2.0


class ReadinessChecks:
    """Named dependency checks; the service is ready when all of them pass."""

    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}

    def add(self, name: str, check: Check) -> None:
        """Register a check: an awaitable that raises when the dependency is not usable."""
        self._checks[name] = check

    async def run(self) -> dict[str, str]:
        """Run every check concurrently, each bounded in time."""
        names = list(self._checks)
        results = await asyncio.gather(
            *(asyncio.wait_for(self._checks[n](), READINESS_TIMEOUT_SECONDS) for n in names),
            return_exceptions=True,
        )
        return {
            name: "ok" if not isinstance(result, BaseException) else _describe(result)
            for name, result in zip(names, results, strict=True)
        }


def _describe(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return "timeout"
    return f"error: {type(error).__name__}"


async def healthz(_request: web.Request) -> web.Response:
    """Alive: the process answers. Never touches a dependency."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready: every dependency answered; 503 with the failing ones otherwise."""
    results = await request.app[READINESS].run()
    ready = all(value == "ok" for value in results.values())
    return web.json_response(
        {"status": "ready" if ready else "not ready", "checks": results},
        status=200 if ready else 503,
    )
