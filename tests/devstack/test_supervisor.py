"""The launcher's supervisor: Ctrl-C stops every child in reverse order; a killed child is
started again; a child in a crash loop stops them all."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from portail.devstack.supervisor import ChildSpec, Supervisor, group_alive, run_supervised
from portail.registry import ROOT

HERE = Path(__file__).parent


def _lines(marker: Path) -> list[str]:
    return marker.read_text().splitlines() if marker.exists() else []


def _wait_gone(pids: list[int], seconds: float = 10) -> list[int]:
    deadline = time.monotonic() + seconds
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in alive if group_alive(pid)]
        time.sleep(0.05)
    return alive


def test_sigint_stops_every_child_in_reverse_order(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    driver = subprocess.Popen(
        [sys.executable, str(HERE / "supervised_driver.py"), str(marker), str(tmp_path / "logs")],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert driver.stdout is not None
    pids: list[int] = []
    for line in driver.stdout:
        if line.startswith("READY"):
            pids = [int(pid) for pid in line.split()[1:]]
            break
    assert len(pids) == 3, "three children started"

    driver.send_signal(signal.SIGINT)
    assert driver.wait(timeout=30) == 0

    lines = _lines(marker)
    assert lines.index("infra stopped") > lines.index("service-a stopped")
    assert lines.index("infra stopped") > lines.index("service-b stopped")
    assert _wait_gone(pids) == []


async def test_a_child_in_a_crash_loop_stops_the_others_and_is_reported(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    report: list[str] = []
    supervisor = Supervisor(report=report.append, stop_timeout=5, restart_limit=2)

    def child(name: str, *extra: str) -> ChildSpec:
        argv = [sys.executable, str(HERE / "fake_child.py"), name, str(marker), *extra]
        return ChildSpec(name, argv, tmp_path / f"{name}.log", settle_seconds=0.2)

    async def startup() -> None:
        await supervisor.start_batch([child("steady"), child("fragile", "--die-after", "1")])

    code = await run_supervised(supervisor, startup, lambda _: None)

    assert code == 1
    assert _lines(marker).count("fragile died") == 3, "started, restarted twice, then given up"
    assert "steady stopped" in _lines(marker)
    assert any("fragile" in line and "redémarré" in line for line in report)
    assert any("fragile" in line and "s'arrête sans cesse (code 3)" in line for line in report)
    assert _wait_gone([c.pid for c in supervisor.children]) == []


async def test_a_killed_child_is_started_again_and_the_others_keep_running(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "marker"
    report: list[str] = []
    running, restarted = asyncio.Event(), asyncio.Event()

    def note(line: str) -> None:
        report.append(line)
        if "victim redémarré" in line:
            restarted.set()

    supervisor = Supervisor(report=note, stop_timeout=5)

    def child(name: str) -> ChildSpec:
        argv = [sys.executable, str(HERE / "fake_child.py"), name, str(marker)]
        return ChildSpec(name, argv, tmp_path / f"{name}.log", settle_seconds=0.2)

    async def startup() -> None:
        await supervisor.start_batch([child("steady"), child("victim")])

    async def kill_the_victim_then_stop() -> tuple[int, int]:
        await running.wait()
        steady, victim = (c.pid for c in supervisor.children)
        os.kill(victim, signal.SIGKILL)
        await asyncio.wait_for(restarted.wait(), 30)
        os.kill(os.getpid(), signal.SIGTERM)  # what a Ctrl-C or `kill` of the launcher does
        return steady, victim

    replacements: list[int] = []
    attack = asyncio.create_task(kill_the_victim_then_stop())
    code = await run_supervised(
        supervisor, startup, lambda _: running.set(), lambda new: replacements.append(new.pid)
    )
    steady, victim = await attack

    assert code == 0
    assert _lines(marker).count("victim started") == 2
    assert _lines(marker).count("steady started") == 1, "the others were left running"
    assert steady in [c.pid for c in supervisor.children]
    assert victim not in [c.pid for c in supervisor.children]
    # The launcher rewrites devstack.json from this hook: `portail status` shows the new pid.
    assert len(replacements) == 1 and replacements[0] in [c.pid for c in supervisor.children]
    assert _wait_gone([c.pid for c in supervisor.children]) == []


async def test_a_child_killed_again_while_restarting_is_started_once_more(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "marker"
    report: list[str] = []
    running, restarted = asyncio.Event(), asyncio.Event()

    def note(line: str) -> None:
        report.append(line)
        if "victim redémarré" in line:
            restarted.set()

    supervisor = Supervisor(report=note, stop_timeout=5)

    def child(name: str) -> ChildSpec:
        argv = [sys.executable, str(HERE / "fake_child.py"), name, str(marker)]
        # Ready only after 3 s: the second kill lands while the replacement is starting.
        return ChildSpec(name, argv, tmp_path / f"{name}.log", settle_seconds=3)

    async def startup() -> None:
        await supervisor.start_batch([child("steady"), child("victim")])

    def victim_pid() -> int:
        return next(c.pid for c in supervisor.children if c.spec.name == "victim")

    async def kill_twice_then_stop() -> list[int]:
        await running.wait()
        first = victim_pid()
        os.kill(first, signal.SIGKILL)
        while victim_pid() == first:  # noqa: ASYNC110 (no event when a replacement spawns)
            await asyncio.sleep(0.01)
        second = victim_pid()
        os.kill(second, signal.SIGKILL)  # not ready yet: still in its settle time
        await asyncio.wait_for(restarted.wait(), 30)
        os.kill(os.getpid(), signal.SIGTERM)
        return [first, second]

    attack = asyncio.create_task(kill_twice_then_stop())
    code = await run_supervised(supervisor, startup, lambda _: running.set())
    if not attack.done():
        attack.cancel()  # the portal stopped before the replacement's restart

    assert code == 0, report
    killed = await attack
    assert victim_pid() not in killed, "a third victim ran until the stop"
    assert _lines(marker).count("victim stopped") == 1
    assert _lines(marker).count("steady started") == 1, "the others were left running"
    assert any("victim s'est arrêté en redémarrant" in line for line in report)
    assert _wait_gone([c.pid for c in supervisor.children]) == []


async def test_a_child_that_ignores_sigterm_is_killed_after_the_timeout(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    supervisor = Supervisor(report=lambda _: None, stop_timeout=0.5)
    argv = [sys.executable, str(HERE / "fake_child.py"), "stubborn", str(marker), "--ignore-term"]
    await supervisor.start_batch(
        [ChildSpec("stubborn", argv, tmp_path / "s.log", settle_seconds=0.2)]
    )
    pid = supervisor.children[0].pid

    began = time.monotonic()
    await supervisor.stop_all()

    assert time.monotonic() - began < 5
    assert not group_alive(pid)
    assert "stubborn stopped" not in _lines(marker)


async def test_a_child_that_fails_to_start_is_reported_with_the_end_of_its_log(
    tmp_path: Path,
) -> None:
    report: list[str] = []
    supervisor = Supervisor(report=report.append)
    argv = [sys.executable, "-c", "import sys; print('port déjà pris'); sys.exit(4)"]

    async def startup() -> None:
        await supervisor.start_batch([ChildSpec("broken", argv, tmp_path / "b.log")])

    code = await run_supervised(supervisor, startup, lambda _: None)

    assert code == 1
    text = "\n".join(report)
    assert "broken" in text and "code 4" in text and "port déjà pris" in text


async def test_the_children_run_in_their_own_process_groups(tmp_path: Path) -> None:
    supervisor = Supervisor(report=lambda _: None)
    argv = [sys.executable, "-c", "import time; time.sleep(30)"]
    await supervisor.start_batch(
        [ChildSpec("sleeper", argv, tmp_path / "z.log", settle_seconds=0.1)]
    )
    try:
        pid = supervisor.children[0].pid
        # A terminal's Ctrl-C reaches our group only; the launcher then stops them in order.
        assert os.getpgid(pid) == pid != os.getpgid(0)
    finally:
        await supervisor.stop_all()
    await asyncio.sleep(0)


async def test_any_startup_error_still_stops_what_was_started(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    report: list[str] = []
    supervisor = Supervisor(report=report.append, stop_timeout=5)
    argv = [sys.executable, str(HERE / "fake_child.py"), "redis", str(marker)]

    async def startup() -> None:
        await supervisor.start_batch(
            [ChildSpec("redis", argv, tmp_path / "r.log", settle_seconds=0.2)]
        )
        # The child notes "started" once its SIGTERM handler is in place; on a loaded machine
        # that can take longer than the settle time.
        for _ in range(200):
            if marker.exists() and "redis started" in _lines(marker):
                break
            await asyncio.sleep(0.05)
        raise RuntimeError("bucket refusé")

    code = await run_supervised(supervisor, startup, lambda _: None)

    assert code == 1
    assert any("bucket refusé" in line for line in report)
    assert "redis stopped" in _lines(marker)
