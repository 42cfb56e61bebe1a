"""Demo accounts of the dev profile: the TEST family's parent and an administrator.

Idempotent; refused in prod. `python -m services.auth.seed --family-id ID`.
"""

from __future__ import annotations

import argparse
import asyncio

from .config import AuthSettings
from .context import AuthContext
from .runtime import standalone
from .service import find_by_email, invite_family, invite_staff
from .sessions import activate_with_password

DEMO_PARENT = "famille.test@example.org"
DEMO_ADMIN = "admin@example.org"
# Dev only, printed by the seed; the rule still applies (length, not in the blocklist).
DEMO_PASSWORD = "Espace famille de démonstration"  # noqa: S105 - dev demo, printed


async def seed(auth: AuthContext, *, family_id: str) -> list[str]:
    """Create what is missing; returns one line per account for the console."""
    if auth.settings.profile == "prod":
        raise RuntimeError("the demo accounts are for the dev profile only")
    lines = []
    async with auth.database.transaction() as session:
        parent = await find_by_email(session, DEMO_PARENT)
        if parent is None:
            parent = (
                await invite_family(
                    auth,
                    session,
                    email=DEMO_PARENT,
                    family_id=family_id,
                    rights=("book", "invoices", "edit"),
                    actor="seed",
                )
            ).account
        admin = await find_by_email(session, DEMO_ADMIN)
        if admin is None:
            admin = (
                await invite_staff(
                    auth, session, email=DEMO_ADMIN, roles=("administrator",), actor="seed"
                )
            ).account
    for account in (parent, admin):
        if account.state == "invited":
            await activate_with_password(auth, account_id=account.id, password=DEMO_PASSWORD)
        lines.append(f"{account.email} / {DEMO_PASSWORD}")
    return lines


async def _main(family_id: str) -> None:
    settings = AuthSettings()
    async with standalone(settings) as auth:
        for line in await seed(auth, family_id=family_id):
            print(line)
    print("The administrator enrols an authenticator app at the first sign-in.")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--family-id", required=True)
    asyncio.run(_main(parser.parse_args().family_id))
