"""Migrate then seed the dev databases in one process: what `portail migrate` and `portail seed` do.

Run by the launcher as `python -m portail.devstack.prepare --migrate NAME… --seed NAME…
--notes FILE`,
with the portal's environment (database URLs under var/db).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from services.kit.migrations import upgrade
from services.kit.settings import load_settings

from ..registry import service
from .seeding import seed_all


def main(argv: list[str] | None = None) -> None:
    """Bring each named service to its latest schema, then put the demo data in."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--migrate", nargs="*", default=[], metavar="SERVICE")
    parser.add_argument("--seed", nargs="*", default=[], metavar="SERVICE")
    parser.add_argument("--notes", type=Path, help="write the seeds' notes here (JSON)")
    args = parser.parse_args(argv)
    for name in args.migrate:
        entry = service(name)
        upgrade(entry.migrations_dir, load_settings(entry.settings_class()).database_url)
        print(f"{name}: migrated", flush=True)
    notes = asyncio.run(seed_all(args.seed, report=lambda line: print(line, flush=True)))
    if args.notes:
        args.notes.write_text(json.dumps(notes, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
