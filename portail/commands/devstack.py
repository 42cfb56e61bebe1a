"""`portail run` and `portail status`: the embedded dev profile."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from ..devstack.layout import DevPorts, VarLayout
from ..devstack.plan import Portal
from ..registry import ROOT


def portal_from_args(args: argparse.Namespace) -> Portal:
    return Portal(
        layout=VarLayout(Path(args.var).resolve()), ports=DevPorts().shifted(args.port_offset)
    )


def _port_offset(text: str) -> int:
    offset = int(text)
    if not 0 <= offset <= 20000:
        raise argparse.ArgumentTypeError("between 0 and 20000")
    return offset


def _run(args: argparse.Namespace) -> int:
    from ..devstack.launcher import run_portal

    return asyncio.run(run_portal(portal_from_args(args), stop_timeout=args.stop_timeout))


def _status(args: argparse.Namespace) -> int:
    from ..devstack.status import collect_status, launcher_note

    portal = portal_from_args(args)
    rows = asyncio.run(collect_status(portal))
    print(launcher_note(portal))
    header = ("processus", "adresse / URL", "pid", "état / readiness")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        print("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    return 0 if rows and all(r[3].startswith(("prêt", "en marche")) for r in rows) else 1


def register(commands: Any) -> None:
    """Add `run` and `status`."""
    default_var = str(ROOT / "var")
    run = commands.add_parser(
        "run", help="start the whole portal on this machine (dev profile, state under var/)"
    )
    run.add_argument("--var", default=default_var, help="state folder (default: var/)")
    run.add_argument(
        "--stop-timeout",
        type=float,
        default=10.0,
        help="seconds a process gets to stop before SIGKILL",
    )
    run.add_argument(
        "--port-offset",
        type=_port_offset,
        default=0,
        help="add this to every port (8080 → 8080+N…): a second portal beside the first",
    )
    run.set_defaults(handler=_run)

    status = commands.add_parser("status", help="which processes of the dev portal answer")
    status.add_argument("--var", default=default_var, help="state folder (default: var/)")
    status.add_argument(
        "--port-offset", type=_port_offset, default=0, help="the offset the portal was run with"
    )
    status.set_defaults(handler=_status)
