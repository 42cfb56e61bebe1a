"""`portail seed`: each service's demo data, through the contract every service may implement.

Contract: `services/<name>/seed.py` defines `async def seed_demo(database: Database)`,
idempotent (run it twice, get the same data once). It may return lines worth showing to the
developer (demo logins, say); `portail run` prints them in its summary. Seeds run in the
order of the registry: auth, families, bookings, billing, documents, notifications; the
ids they share are in `portail.demo`.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Iterable

from services.kit.database import Database
from services.kit.settings import load_settings

from ..registry import SERVICE_NAMES, service

SEED_FUNCTION = "seed_demo"


def seeded_services() -> list[str]:
    """Services that provide a `seed` module, in seeding order."""
    return [name for name in SERVICE_NAMES if importlib.util.find_spec(f"services.{name}.seed")]


async def seed_all(
    names: list[str] | None = None, *, report: Callable[[str], None] = print
) -> dict[str, list[str]]:
    """Run the seeds of `names` (default: all that exist); returns each one's notes."""
    notes: dict[str, list[str]] = {}
    for name in seeded_services() if names is None else names:
        module = importlib.import_module(f"services.{name}.seed")
        seed = getattr(module, SEED_FUNCTION, None)
        if seed is None:
            # A seed module written before the contract: say so, do not stop the portal.
            report(f"{name}: seed.py sans {SEED_FUNCTION}(database) — ignoré / skipped")
            notes[name] = [f"(seed.py sans {SEED_FUNCTION}(database) : pas de données de démo)"]
            continue
        settings = load_settings(service(name).settings_class())
        database = Database(settings.database_url, pool_size=1)
        try:
            returned = await seed(database)
        finally:
            await database.dispose()
        notes[name] = [str(line) for line in returned] if isinstance(returned, Iterable) else []
        report(f"{name}: données de démo en place / demo data seeded")
    return notes
