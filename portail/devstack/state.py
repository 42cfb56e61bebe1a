"""The launcher's note of what runs (`var/run/devstack.json`), read by `portail status`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .supervisor import Child


def write_state(path: Path, children: list[Child]) -> None:
    """Record the launcher's pid and each child's pid, URL and log."""
    state = {
        "launcher_pid": os.getpid(),
        "processes": [
            {
                "name": child.spec.name,
                "pid": child.pid,
                "url": child.spec.url,
                "log": str(child.spec.log),
            }
            for child in children
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state, indent=2))
    os.replace(temporary, path)


def read_state(path: Path) -> dict[str, Any] | None:
    """The recorded state, or None when no portal recorded one."""
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
