"""Start child processes, wait until they are ready, watch them, stop them in reverse order.

A child that dies on its own once the portal runs (a crash, a `kill -9`) is started again,
as Kubernetes would; one that keeps dying (a crash loop) stops the whole portal instead.

Each child runs in its own session (process group), so a Ctrl-C typed in the terminal
reaches the launcher only and the launcher decides the order of the shutdown. Should the
launcher itself be killed, Linux sends the children SIGTERM (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from .readiness import Probe

Report = Callable[[str], None]
T = TypeVar("T")
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class ChildSpec:
    """One process to supervise."""

    name: str
    argv: Sequence[str]
    log: Path
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    # Every probe must pass. None (worker, beat): ready once alive for `settle_seconds`.
    probes: tuple[Probe, ...] = ()
    ready_timeout: float = 90.0
    settle_seconds: float = 2.0
    url: str = ""


@dataclass
class Child:
    """A started child."""

    spec: ChildSpec
    process: asyncio.subprocess.Process
    ready_detail: str = ""

    @property
    def pid(self) -> int:
        """Its pid, which is also its process group id."""
        return self.process.pid


class ChildFailed(Exception):
    """A child exited, or did not get ready in time; the message points at its log."""

    def __init__(self, name: str, reason: str, log: Path) -> None:
        self.name = name
        self.log = log
        super().__init__(f"{name}: {reason} — voir / see {log}")


class ChildDiedStarting(ChildFailed):
    """A child exited before it was ready (its watcher has queued that death too)."""


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: if the launcher dies without stopping us
    # (kill -9), the kernel sends SIGTERM instead of leaving an orphan holding a port.
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def tail(path: Path, lines: int = 20) -> str:
    """The last lines of a log file ("" when missing)."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 16384))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class Supervisor:
    """The children of one launcher, started in batches and stopped in reverse batches."""

    def __init__(
        self,
        *,
        report: Report = print,
        stop_timeout: float = 10.0,
        restart_limit: int = 5,
        restart_window: float = 60.0,
    ) -> None:
        self.report = report
        self.stop_timeout = stop_timeout
        # More than `restart_limit` deaths of one child within `restart_window` s: a crash loop.
        self.restart_limit = restart_limit
        self.restart_window = restart_window
        self._deaths: dict[str, list[float]] = {}
        self.batches: list[list[Child]] = []
        self._stopping = False
        self._exited: asyncio.Queue[Child] = asyncio.Queue()
        self._watchers: list[asyncio.Task[None]] = []

    @property
    def children(self) -> list[Child]:
        """Every started child, in start order."""
        return [child for batch in self.batches for child in batch]

    async def spawn_batch(self, specs: Sequence[ChildSpec]) -> list[Child]:
        """Start `specs` as one batch without waiting for them (see `wait_ready`)."""
        batch = [await self._spawn(spec) for spec in specs]
        self.batches.append(batch)
        return batch

    async def _spawn(self, spec: ChildSpec) -> Child:
        child = Child(spec, await self._spawn_detached(spec))
        self._watchers.append(asyncio.create_task(self._watch(child), name=f"watch-{spec.name}"))
        return child

    async def _spawn_detached(self, spec: ChildSpec) -> asyncio.subprocess.Process:
        spec.log.parent.mkdir(parents=True, exist_ok=True)
        with spec.log.open("ab") as log:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
            log.write(f"\n=== {stamp} start: {' '.join(spec.argv)}\n".encode())
            log.flush()
            process = await asyncio.create_subprocess_exec(
                *spec.argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                cwd=spec.cwd,
                env={**os.environ, **spec.env},
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        return process

    async def _watch(self, child: Child) -> None:
        await child.process.wait()
        if not self._stopping:
            await self._exited.put(child)

    async def start_batch(self, specs: Sequence[ChildSpec]) -> list[Child]:
        """Start `specs` together and wait until each is ready; raise `ChildFailed` otherwise."""
        return await self.start_batches([specs])

    async def start_batches(self, batches: Sequence[Sequence[ChildSpec]]) -> list[Child]:
        """Start several batches at once (faster), still stopped later in reverse batch order."""
        started: list[Child] = []
        for specs in batches:
            batch: list[Child] = []
            self.batches.append(batch)
            for spec in specs:
                batch.append(await self._spawn(spec))
            started += batch
        await self.wait_ready(started)
        return started

    async def wait_ready(self, children: Sequence[Child]) -> None:
        """Wait until every child is ready; the first failure cancels the other waits."""
        async with aiohttp.ClientSession() as session:
            waits = [asyncio.create_task(self._wait_ready(child, session)) for child in children]
            try:
                done, _pending = await asyncio.wait(waits, return_when=asyncio.FIRST_EXCEPTION)
            finally:
                # On a failure or a Ctrl-C, the other waits have nothing left to wait for.
                for task in waits:
                    task.cancel()
                await asyncio.gather(*waits, return_exceptions=True)
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]

    async def _wait_ready(self, child: Child, session: aiohttp.ClientSession) -> None:
        spec = child.spec
        deadline = time.monotonic() + spec.ready_timeout
        settle_until = time.monotonic() + spec.settle_seconds
        detail = "pas encore lancé"
        while True:
            if child.process.returncode is not None:
                raise ChildDiedStarting(
                    spec.name,
                    f"s'est arrêté au démarrage (code {child.process.returncode})",
                    spec.log,
                )
            if not spec.probes:
                if time.monotonic() >= settle_until:
                    child.ready_detail = "en marche"
                    return
            else:
                results = [await probe.check(session) for probe in spec.probes]
                if all(ready for ready, _ in results):
                    child.ready_detail = "prêt"
                    return
                detail = "; ".join(
                    f"{probe.describe()}: {text}"
                    for probe, (ready, text) in zip(spec.probes, results, strict=True)
                    if not ready
                )
            if time.monotonic() >= deadline:
                raise ChildFailed(
                    spec.name,
                    f"pas prêt après {spec.ready_timeout:.0f} s ({detail})",
                    spec.log,
                )
            await asyncio.sleep(0.2)

    async def run_once(self, spec: ChildSpec) -> None:
        """Run a one-shot command (migrations, seed) to completion; `ChildFailed` if it fails."""
        child = Child(spec, await self._spawn_detached(spec))
        try:
            code = await child.process.wait()
        except asyncio.CancelledError:
            _kill_group(child.pid)
            await child.process.wait()
            raise
        if code != 0:
            raise ChildFailed(spec.name, f"a échoué (code {code})", spec.log)

    async def next_exit(self) -> Child:
        """The next child that exits while nobody asked it to."""
        return await self._exited.get()

    def may_restart(self, child: Child) -> bool:
        """Record `child`'s death; False once it died too often lately (a crash loop)."""
        now = time.monotonic()
        deaths = self._deaths.setdefault(child.spec.name, [])
        deaths[:] = [t for t in deaths if now - t < self.restart_window] + [now]
        return len(deaths) <= self.restart_limit

    async def restart(self, child: Child) -> Child:
        """Start a dead child again in its place (same batch, so the stop order holds)."""
        for batch in self.batches:
            if child in batch:
                replacement = await self._spawn(child.spec)
                batch[batch.index(child)] = replacement
                await self.wait_ready([replacement])
                return replacement
        raise ValueError(f"{child.spec.name} is not a child of this supervisor")

    async def stop_all(self) -> None:
        """Stop every child, batch by batch in reverse order; SIGKILL after `stop_timeout`."""
        self._stopping = True
        for batch in reversed(self.batches):
            await asyncio.gather(*(self._stop(child) for child in reversed(batch)))
        for watcher in self._watchers:
            watcher.cancel()
        await asyncio.gather(*self._watchers, return_exceptions=True)

    async def _stop(self, child: Child) -> None:
        name = child.spec.name
        if child.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                child.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(child.process.wait(), self.stop_timeout)
                self.report(f"  arrêté / stopped: {name}")
            except TimeoutError:
                self.report(f"  {name} ne s'arrête pas en {self.stop_timeout:.0f} s: SIGKILL")
                _kill_group(child.pid)
                await child.process.wait()
        # Whatever the child left in its group (a worker's pool processes) goes with it.
        _kill_group(child.pid)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def group_alive(pgid: int) -> bool:
    """Whether any process of this process group still exists."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def run_supervised(
    supervisor: Supervisor,
    startup: Callable[[], Coroutine[Any, Any, T]],
    on_ready: Callable[[T], None],
    on_restarted: Callable[[Child], None] = lambda _child: None,
) -> int:
    """Start with `startup`, then run until SIGINT/SIGTERM or a crash loop; stop everything.

    Returns 0 after a requested stop, 1 when a child failed to start or kept dying.
    A signal during the startup stops what was started so far. `on_restarted` gets each
    child started again in a dead one's place (the launcher rewrites its pid note).
    """
    report = supervisor.report
    loop = asyncio.get_running_loop()
    stop_requested = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Idempotent: a terminal's Ctrl-C reaches us once from the tty and may be forwarded
        # once more by `uv run`; both mean the same stop.
        loop.add_signal_handler(signum, stop_requested.set)
    starting = asyncio.create_task(startup())
    stop_wait = asyncio.create_task(stop_requested.wait())
    code = 0
    try:
        await asyncio.wait({starting, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
        if not starting.done():
            report("\nArrêt demandé pendant le démarrage / stop requested while starting")
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError, ChildFailed):
                await starting
        elif isinstance(error := starting.exception(), ChildFailed):
            _explain(error, report)
            code = 1
        elif error is not None:
            # Anything else that broke the startup (a bucket that cannot be created, say):
            # still a clean stop of what runs, with the cause on screen.
            report(f"\n✗ démarrage impossible / startup failed: {error!r}")
            code = 1
        else:
            on_ready(starting.result())
            code = await _until_stop_or_death(supervisor, stop_wait, on_restarted)
    finally:
        report("Arrêt / stopping …")
        await supervisor.stop_all()
        stop_wait.cancel()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        report("Tout est arrêté / everything stopped.")
    return code


async def _until_stop_or_death(
    supervisor: Supervisor,
    stop_wait: asyncio.Task[bool],
    on_restarted: Callable[[Child], None],
) -> int:
    report = supervisor.report
    while True:
        exited = asyncio.create_task(supervisor.next_exit())
        await asyncio.wait({exited, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
        if not exited.done():
            exited.cancel()
            report("\nArrêt demandé / stop requested")
            return 0
        child = exited.result()
        code = child.process.returncode
        if not supervisor.may_restart(child):
            _explain(
                ChildFailed(
                    child.spec.name,
                    f"s'arrête sans cesse (code {code}) / keeps dying; "
                    "tout s'arrête plutôt que de laisser un demi-portail / stopping everything",
                    child.spec.log,
                ),
                report,
            )
            return 1
        report(f"\n! {child.spec.name} s'est arrêté (code {code}) / died: redémarrage / restarting")
        restarting = asyncio.create_task(supervisor.restart(child))
        await asyncio.wait({restarting, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
        if not restarting.done():
            restarting.cancel()
            with contextlib.suppress(asyncio.CancelledError, ChildFailed):
                await restarting
            report("\nArrêt demandé / stop requested")
            return 0
        if isinstance(error := restarting.exception(), ChildDiedStarting):
            # Killed again while starting (a second kill -9, an OOM): one more death, which
            # the next turn counts and restarts; only `may_restart` calls it a crash loop.
            report(f"! {child.spec.name} s'est arrêté en redémarrant / died while restarting")
            continue
        if isinstance(error, ChildFailed):
            _explain(error, report)
            return 1
        replacement = restarting.result()
        on_restarted(replacement)
        report(f"  {child.spec.name} redémarré / restarted (pid {replacement.pid})")


def _explain(error: ChildFailed, report: Report) -> None:
    report(f"\n✗ {error}")
    last_lines = tail(error.log)
    if last_lines:
        report(f"--- fin de / end of {error.log} ---\n{last_lines}\n---")
