"""Runs two batches of fake children under `run_supervised`, like `portail run` does.

Usage: python supervised_driver.py MARKER LOGDIR; prints "READY pid…" once both batches run.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from portail.devstack.supervisor import ChildSpec, Supervisor, run_supervised

HERE = Path(__file__).parent


def spec(name: str, marker: Path, logs: Path) -> ChildSpec:
    return ChildSpec(
        name=name,
        argv=[sys.executable, str(HERE / "fake_child.py"), name, str(marker)],
        log=logs / f"{name}.log",
        settle_seconds=0.3,
    )


async def main() -> int:
    marker, logs = Path(sys.argv[1]), Path(sys.argv[2])
    supervisor = Supervisor(report=lambda line: print(line, flush=True), stop_timeout=5)

    async def startup() -> None:
        await supervisor.start_batch([spec("infra", marker, logs)])
        await supervisor.start_batch(
            [spec("service-a", marker, logs), spec("service-b", marker, logs)]
        )

    def ready(_: object) -> None:
        print("READY " + " ".join(str(c.pid) for c in supervisor.children), flush=True)

    return await run_supervised(supervisor, startup, ready)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
