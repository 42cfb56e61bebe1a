"""Demo accounts of the dev profile: the TEST family's parent, an agent and an administrator.

`portail seed` calls `seed_demo(database)` (idempotent; refused in prod). The ids, e-mails
and passwords are the ones every service's seed shares, in `portail.demo`.
"""

from __future__ import annotations

from redis.asyncio import Redis

from portail import demo
from services.kit.database import Database
from services.kit.settings import load_settings

from .config import AuthSettings
from .context import AuthContext
from .runtime import build_context
from .service import find_by_email, invite_family, invite_staff
from .sessions import activate_with_password

DEMO_RIGHTS = ("book", "invoices", "edit")


async def seed(auth: AuthContext) -> list[str]:
    """Create what is missing; returns one line per account for the console."""
    if auth.settings.profile == "prod":
        raise RuntimeError("the demo accounts are for the dev profile only")
    wanted: list[tuple[str, str, str | None]] = [
        (demo.DEMO_PARENT_EMAIL, demo.DEMO_PARENT_PASSWORD, None),
        (demo.DEMO_STAFF_EMAIL, demo.DEMO_STAFF_PASSWORD, "agent"),
        (demo.DEMO_ADMIN_EMAIL, demo.DEMO_ADMIN_PASSWORD, "administrator"),
    ]
    lines = []
    for email, password, role in wanted:
        async with auth.database.transaction() as session:
            account = await find_by_email(session, email)
            if account is None and role is None:
                invitation = await invite_family(
                    auth,
                    session,
                    email=email,
                    family_id=demo.DEMO_FAMILY_ID,
                    rights=DEMO_RIGHTS,
                    actor="seed",
                )
                account = invitation.account
            elif account is None and role is not None:
                invitation = await invite_staff(
                    auth, session, email=email, roles=(role,), actor="seed"
                )
                account = invitation.account
        assert account is not None  # found, or just invited above
        if account.state == "invited":
            # The demo passwords are published in portail.demo, so the rule is not applied.
            await activate_with_password(
                auth, account_id=account.id, password=password, apply_rule=False
            )
        note = " (authenticator to enrol at first sign-in)" if role else ""
        lines.append(f"{email} / {password}{note}")
    return lines


async def seed_demo(database: Database) -> list[str]:
    """The `portail seed` contract: demo accounts in this database."""
    settings = load_settings(AuthSettings)
    # The seed never throttles: this client is created but never connects.
    redis = Redis.from_url(settings.redis_url)
    try:
        auth = await build_context(settings, database, redis)
        return await seed(auth)
    finally:
        await redis.aclose()
