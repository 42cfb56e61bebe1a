"""How the launcher knows a child is ready: a TCP connect, or an HTTP check answering 200."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import aiohttp


@dataclass(frozen=True)
class TcpProbe:
    """Ready when a TCP connection to host:port succeeds."""

    host: str
    port: int

    def describe(self) -> str:
        """Where it looks."""
        return f"tcp://{self.host}:{self.port}"

    async def check(self, session: aiohttp.ClientSession) -> tuple[bool, str]:
        """(ready, detail)."""
        try:
            _reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port), timeout=1.0
            )
        except (OSError, TimeoutError) as exc:
            return False, type(exc).__name__
        writer.close()
        await writer.wait_closed()
        return True, "accepte les connexions"


@dataclass(frozen=True)
class HttpProbe:
    """Ready when GET url answers 200 (a `/readyz`)."""

    url: str

    def describe(self) -> str:
        """Where it looks."""
        return self.url

    async def check(self, session: aiohttp.ClientSession) -> tuple[bool, str]:
        """(ready, detail): the status, and the failing checks of a 503 `/readyz`."""
        try:
            async with session.get(self.url, timeout=aiohttp.ClientTimeout(total=3)) as response:
                if response.status == 200:
                    return True, "200"
                detail = str(response.status)
                if response.content_type == "application/json":
                    body = await response.json()
                    checks = body.get("checks") if isinstance(body, dict) else None
                    if isinstance(checks, dict):
                        failing = [f"{k}={v}" for k, v in checks.items() if v != "ok"]
                        detail += " " + ", ".join(failing)
                return False, detail
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            return False, type(exc).__name__


Probe = TcpProbe | HttpProbe
