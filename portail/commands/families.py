"""`portail families-inapplicable-fields [--apply]`: values a person kept that no longer
concern their role (an allergy on a parent, an e-mail on a child), listed and then emptied.

It works on the families database directly (as `portail seed` does); the removals go
through `services.families.cleanup`, one transaction per person, journaled as « maintenance ».
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from services.families.cleanup import (
    MAINTENANCE,
    InapplicableValues,
    clear_inapplicable,
    find_inapplicable,
)
from services.families.config import FamiliesSettings
from services.families.fields import label_of
from services.kit.database import Database
from services.kit.settings import load_settings

ROLE_NAMES = {"child": "enfant", "responsable": "responsable", "contact": "contact"}


def describe(found: InapplicableValues) -> str:
    """One line per person: who, in which households, which fields (never their values)."""
    role = ROLE_NAMES.get(found.role, found.role)
    households = ", ".join(found.family_ids) or "aucune famille"
    fields = ", ".join(f"{label_of('person', name)} ({name})" for name in found.fields)
    who = f"{found.first_name} {found.last_name}"
    return f"  {who} [{role}, {found.person_id}] ({households}) : {fields}"


async def _inapplicable_fields(args: argparse.Namespace) -> int:
    settings = load_settings(FamiliesSettings)
    database = Database(settings.database_url, pool_size=1)
    try:
        async with database.transaction() as session:
            found = await find_inapplicable(session)
        if not found:
            print("Aucune valeur hors rôle : rien à effacer.")
            return 0
        if not args.apply:
            print("Valeurs qui ne concernent pas le rôle de la personne (rien n'est modifié) :")
            for person in found:
                print(describe(person))
            print(f"{len(found)} personne(s). Relancez avec --apply pour les effacer.")
            return 0
        cleared = 0
        for person in found:
            # One transaction per person: a failure leaves the others done and this one whole.
            async with database.transaction() as session:
                done = await clear_inapplicable(session, person_id=person.person_id)
            if done is not None:
                cleared += 1
                print("effacé" + describe(done)[1:])
        print(f"{cleared} personne(s) nettoyée(s), journalisé(es) par « {MAINTENANCE} ».")
        return 0
    finally:
        await database.dispose()


def _run(args: argparse.Namespace) -> int:
    return asyncio.run(_inapplicable_fields(args))


def register(commands: Any) -> None:
    """Add `families-inapplicable-fields`."""
    cleanup = commands.add_parser(
        "families-inapplicable-fields",
        help="list (or --apply: empty) values that no longer concern a person's role",
    )
    cleanup.add_argument(
        "--apply",
        action="store_true",
        help="empty them, journaled as « maintenance » (default: only list them)",
    )
    cleanup.set_defaults(handler=_run)
