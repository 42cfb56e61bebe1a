"""The event loop every long-running process of the portal runs on: uvloop by default.

uvloop (libuv, by the authors of asyncpg) runs the same asyncio code with less CPU per
socket read and write. Measured here the gain is small: about 5 % of the CPU per request of
a bare aiohttp application, within the noise of the portal's end-to-end benches
(docs/performance.md). `PORTAIL_EVENT_LOOP=asyncio` keeps the standard loop (to compare, or
to debug with asyncio's own tools).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvloop
from aiohttp import web

LOOP_SETTING = "PORTAIL_EVENT_LOOP"
LOOPS = ("uvloop", "asyncio")
T = TypeVar("T")


def chosen_loop() -> str:
    """The loop `PORTAIL_EVENT_LOOP` names; anything but the two known names is an error."""
    name = os.environ.get(LOOP_SETTING, "uvloop").strip().lower() or "uvloop"
    if name not in LOOPS:
        raise SystemExit(f"{LOOP_SETTING} must be one of {', '.join(LOOPS)}, not {name!r}")
    return name


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A new loop of the chosen kind, for a process that keeps one loop for its lifetime."""
    if chosen_loop() == "uvloop":
        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` on the chosen loop."""
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(coroutine)


def run_web_app(app: web.Application, *, host: str, port: int, **options: Any) -> None:
    """Serve an aiohttp application until SIGINT/SIGTERM, on the chosen loop, without
    aiohttp's access log (the kit's middleware writes one line per request)."""
    web.run_app(app, host=host, port=port, access_log=None, loop=new_event_loop(), **options)
