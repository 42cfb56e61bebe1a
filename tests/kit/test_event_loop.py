"""The processes' event loop: uvloop unless PORTAIL_EVENT_LOOP says asyncio."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
import uvloop

from services.kit import event_loop


async def _running_loop_type() -> type:
    return type(asyncio.get_running_loop())


def test_uvloop_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(event_loop.LOOP_SETTING, raising=False)
    assert event_loop.run(_running_loop_type()) is uvloop.Loop


def test_the_standard_loop_can_be_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(event_loop.LOOP_SETTING, "asyncio")
    loop_type = event_loop.run(_running_loop_type())
    assert not issubclass(loop_type, uvloop.Loop)
    assert issubclass(loop_type, asyncio.AbstractEventLoop)


def test_an_unknown_loop_name_stops_the_process_with_its_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(event_loop.LOOP_SETTING, "trio")
    with pytest.raises(SystemExit, match="trio"):
        event_loop.new_event_loop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


SERVE_AND_SAY_LOOP = """
import asyncio, sys
from aiohttp import web
from services.kit.event_loop import run_web_app

async def loop_name(request):
    return web.Response(text=type(asyncio.get_running_loop()).__module__)

app = web.Application()
app.router.add_get("/", loop_name)
run_web_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""


def test_a_served_app_answers_from_uvloop() -> None:
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVE_AND_SAY_LOOP, str(port)])
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as answer:
                    module = answer.read().decode()
                break
            except OSError:
                assert server.poll() is None, "the server stopped"
                assert time.monotonic() < deadline, "the server never answered"
                time.sleep(0.1)
        assert module.startswith("uvloop")
    finally:
        server.terminate()
        assert server.wait(timeout=10) == 0
