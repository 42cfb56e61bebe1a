"""`portail seed`: the demo data of the manual (family TEST, ALSH Josta Leku, …)."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from ..registry import SERVICE_NAMES


def _seed(args: argparse.Namespace) -> int:
    from ..devstack.seeding import seed_all, seeded_services

    available = seeded_services()
    unknown = [name for name in args.services if name not in available]
    if unknown:
        print("pas de seed.py pour / no seed.py for: " + ", ".join(unknown))
        return 2
    names = [name for name in available if not args.services or name in args.services]
    notes = asyncio.run(seed_all(names))
    for name, lines in notes.items():
        for line in lines:
            print(f"  {name}: {line}")
    return 0


def register(commands: Any) -> None:
    """Add `seed`."""
    seed = commands.add_parser(
        "seed", help="put the demo data in each service's database (idempotent)"
    )
    seed.add_argument(
        "services",
        nargs="*",
        metavar="SERVICE",
        help="default: every service with a seed.py, in the order " + ", ".join(SERVICE_NAMES),
    )
    seed.set_defaults(handler=_seed)
