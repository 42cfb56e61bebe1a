"""`portail migrate` and `portail makemigration`."""

from __future__ import annotations

import argparse
from typing import Any

from alembic import command

from services.kit.migrations import alembic_config, upgrade
from services.kit.settings import load_settings

from ..registry import SERVICE_NAMES, service


def _migrate(args: argparse.Namespace) -> int:
    for name in args.services or SERVICE_NAMES:
        entry = service(name)
        settings = load_settings(entry.settings_class())
        upgrade(entry.migrations_dir, settings.database_url)
        print(f"{name}: migrated")
    return 0


def _make_migration(args: argparse.Namespace) -> int:
    entry = service(args.service)
    settings = load_settings(entry.settings_class())
    upgrade(entry.migrations_dir, settings.database_url)
    config = alembic_config(entry.migrations_dir, settings.database_url)
    command.revision(config, message=args.message, autogenerate=True)
    return 0


def register(commands: Any) -> None:
    """Add the migration commands."""
    migrate = commands.add_parser("migrate", help="bring service databases to the latest schema")
    migrate.add_argument(
        "services", nargs="*", metavar="SERVICE", help="default: all of " + ", ".join(SERVICE_NAMES)
    )
    migrate.set_defaults(handler=_migrate)

    make = commands.add_parser("makemigration", help="write a new migration from the models")
    make.add_argument("service", choices=SERVICE_NAMES)
    make.add_argument("-m", "--message", required=True)
    make.set_defaults(handler=_make_migration)
