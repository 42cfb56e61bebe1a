"""RGPD right of access: the accounts of one family, as one JSON file.

The family itself or staff; another family's id answers 404 like a missing one. For each
account that belongs to the family: its address, state, this family's membership and
rights (never its memberships of other households), and its sign-in history (sessions,
invitation and reset links: dates and addresses only). Never a password hash, a token or
its hash, a TOTP secret or a recovery code. Sign-ins are already journaled as they happen
(`account.login_succeeded`); reading them here emits no event, the families part of the same
download journals the export.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from services.kit.bodies import json_response
from services.kit.identity import require_family
from services.kit.keys import DATABASE
from services.kit.openapi import operation
from services.kit.outbox import utcnow
from services.kit.problems import NotFound

from .models import Account, Membership, OneTimeToken, Session

routes = web.RouteTableDef()
MAX_ID = 36  # family ids are UUIDs


class SignInExport(BaseModel):
    """A browser session: when it started, was last used and ended, and from where."""

    model_config = ConfigDict(from_attributes=True)

    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    client_ip: str | None


class LinkExport(BaseModel):
    """An invitation or password-reset link sent to the account (never the link itself)."""

    model_config = ConfigDict(from_attributes=True)

    purpose: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None


class AccountExport(BaseModel):
    """One account of the family, without any secret."""

    id: str
    email: str
    state: str
    created_at: datetime
    last_login_at: datetime | None
    mfa_enabled_at: datetime | None
    rights: list[str]
    member_since: datetime
    sign_ins: list[SignInExport]
    links: list[LinkExport]


class AuthExport(BaseModel):
    """This service's part of a family's RGPD access export."""

    service: Literal["auth"] = "auth"
    family_id: str
    exported_at: datetime
    accounts: list[AccountExport]


@routes.get("/families/{family_id}/export")
@operation(
    "The family's accounts held by this service (RGPD right of access), without secrets",
    tags=("accounts",),
    response=AuthExport,
    errors=(404,),
)
async def export_family(request: web.Request) -> web.Response:
    """GET /families/{family_id}/export: the family's accounts and their sign-ins."""
    family_id = request.match_info["family_id"]
    if len(family_id) > MAX_ID:
        raise NotFound("No such family.")
    require_family(request, family_id)
    accounts = []
    async with request.app[DATABASE].sessions() as session:
        rows = await session.execute(
            select(Account, Membership)
            .join(Membership, Membership.account_id == Account.id)
            .where(Membership.family_id == family_id)
            .order_by(Account.created_at, Account.id)
        )
        for account, membership in rows.all():
            sessions = await session.scalars(
                select(Session)
                .where(Session.account_id == account.id)
                .order_by(Session.created_at, Session.id)
            )
            links = await session.scalars(
                select(OneTimeToken)
                .where(OneTimeToken.account_id == account.id)
                .order_by(OneTimeToken.created_at, OneTimeToken.id)
            )
            accounts.append(
                AccountExport(
                    id=account.id,
                    email=account.email,
                    state=account.state,
                    created_at=account.created_at,
                    last_login_at=account.last_login_at,
                    mfa_enabled_at=account.totp_enabled_at,
                    rights=sorted(membership.rights),
                    member_since=membership.created_at,
                    sign_ins=[SignInExport.model_validate(s) for s in sessions],
                    links=[LinkExport.model_validate(t) for t in links],
                )
            )
    export = AuthExport(family_id=family_id, exported_at=utcnow(), accounts=accounts)
    response = json_response(export)
    response.headers["Content-Disposition"] = 'attachment; filename="comptes.json"'
    return response
