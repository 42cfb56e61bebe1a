"""`portail`: the command line of the portal.

Each module of `portail.commands` adds its sub-commands through `register(commands)`,
so that the command line grows with the project without one file owning every command.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from services.kit.settings import SettingsError

from . import commands as command_package


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command of every command module."""
    parser = argparse.ArgumentParser(prog="portail", description="Portail Famille")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_info in sorted(pkgutil.iter_modules(command_package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{command_package.__name__}.{module_info.name}")
        module.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `portail` command."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
