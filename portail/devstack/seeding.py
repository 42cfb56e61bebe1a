"""`portail seed`: each service's demo data, through the contract every service may implement.

Contract: `services/<name>/seed.py` defines `async def seed_demo(database: Database) -> None`,
idempotent (run it twice, get the same data once). Seeds run in the order of the registry:
auth, families, bookings, billing, documents, notifications; shared ids are in `portail.demo`.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable

from services.kit.database import Database
from services.kit.settings import load_settings

from ..registry import SERVICE_NAMES, service


def seeded_services() -> list[str]:
    """Services that provide a `seed` module, in seeding order."""
    return [name for name in SERVICE_NAMES if importlib.util.find_spec(f"services.{name}.seed")]


async def seed_all(
    names: list[str] | None = None, *, report: Callable[[str], None] = print
) -> list[str]:
    """Run the seeds of `names` (default: all that exist); returns the services seeded."""
    done = []
    for name in seeded_services() if names is None else names:
        module = importlib.import_module(f"services.{name}.seed")
        settings = load_settings(service(name).settings_class())
        database = Database(settings.database_url, pool_size=1)
        try:
            await module.seed_demo(database)
        finally:
            await database.dispose()
        report(f"{name}: données de démo en place / demo data seeded")
        done.append(name)
    return done
