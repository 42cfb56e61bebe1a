"""A tiny child for the supervisor tests: notes when it starts and stops, in a shared file.

Usage: python fake_child.py NAME MARKER [--ignore-term] [--die-after SECONDS]
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path


def note(marker: Path, line: str) -> None:
    with marker.open("a") as handle:
        handle.write(line + "\n")


def main() -> None:
    name, marker = sys.argv[1], Path(sys.argv[2])
    ignore_term = "--ignore-term" in sys.argv
    die_after = (
        float(sys.argv[sys.argv.index("--die-after") + 1]) if "--die-after" in sys.argv else 0
    )

    def stop(_signum: int, _frame: object) -> None:
        note(marker, f"{name} stopped")
        sys.exit(0)

    signal.signal(signal.SIGTERM, signal.SIG_IGN if ignore_term else stop)
    note(marker, f"{name} started")
    began = time.monotonic()
    while not die_after or time.monotonic() - began < die_after:
        time.sleep(0.05)
    note(marker, f"{name} died")
    sys.exit(3)


if __name__ == "__main__":
    main()
