"""Staff and municipal systems: invitations, accounts, staff roles, key rotation."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from services.kit.app import REDIS
from services.kit.bodies import json_response, read_json, read_query
from services.kit.identity import Identity, require_scope, require_staff
from services.kit.openapi import operation
from services.kit.problems import Forbidden

from . import service, signing
from .context import AUTH, AuthContext
from .errors import AccountNotFound
from .families import require_existing_family
from .lapses import mark_disabled, mark_membership_removed
from .models import Account
from .requests import require_administrator
from .schemas import (
    AccountList,
    AccountQuery,
    AccountRead,
    InvitationCreate,
    InvitationRead,
    KeyRotated,
    MembershipBody,
    StaffCreate,
    StaffRolesUpdate,
)
from .throttle import account_key

routes = web.RouteTableDef()


@routes.post("/keys/rotate")
@operation(
    "Rotate the signing key (administrators)", tags=("keys",), response=KeyRotated, status=201
)
async def rotate_keys(request: web.Request) -> web.Response:
    """POST /keys/rotate: publish a new key now; it signs after the activation delay."""
    identity = require_administrator(request)
    auth = request.app[AUTH]
    row = await signing.rotate(auth.database, auth.sealer, auth.settings, actor=identity.subject)
    await auth.keyring.load()
    return json_response(KeyRotated(kid=row.kid, activates_at=row.activates_at), status=201)


@routes.post("/invitations")
@operation(
    "Invite a family account, or add a family to an existing login (staff, auth:write)",
    tags=("invitations",),
    request=InvitationCreate,
    response=InvitationRead,
    status=201,
    errors=(409, 503),
)
async def create_invitation(request: web.Request) -> web.Response:
    """POST /invitations: 201 with a new account, 200 when an existing login got the family."""
    identity = require_scope(request, "auth:write")
    data = await read_json(request, InvitationCreate)
    # Asked before the transaction: nothing is written for a family that is none, and no
    # database connection waits on another service.
    await require_existing_family(request, data.family_id)
    auth = request.app[AUTH]
    async with auth.database.transaction() as session:
        invitation = await service.invite_family(
            auth,
            session,
            email=data.email,
            family_id=data.family_id,
            rights=data.rights,
            actor=identity.subject,
            discreet=_families_only(identity),
        )
    body = InvitationRead(
        account=service.account_read(invitation.account),
        invitation_expires_at=invitation.link.expires_at if invitation.link else None,
    )
    return json_response(body, status=201 if invitation.created else 200)


@routes.get("/accounts")
@operation(
    "List and search accounts (staff; auth:read, family accounts only)",
    tags=("staff",),
    response=AccountList,
    errors=(403,),
    query={
        "q": "string",
        "state": "string",
        "kind": "string",
        "family_id": "string",
        "limit": "integer",
        "offset": "integer",
    },
)
async def list_accounts(request: web.Request) -> web.Response:
    """GET /accounts."""
    identity = require_scope(request, "auth:read")
    query = read_query(request, AccountQuery)
    if _families_only(identity):
        if query.kind == "staff":
            raise Forbidden("Municipal systems read family accounts only.")
        query = query.model_copy(update={"kind": "family"})
    auth = request.app[AUTH]
    async with auth.database.sessions() as session:
        rows, total = await service.list_accounts(session, query)
    return json_response(AccountList(items=await _with_throttle(auth, rows), total=total))


@routes.get("/accounts/{account_id}")
@operation(
    "One account (staff; auth:read, a family account)",
    tags=("staff",),
    response=AccountRead,
    errors=(404,),
)
async def read_account(request: web.Request) -> web.Response:
    """GET /accounts/{account_id}."""
    identity = require_scope(request, "auth:read")
    auth = request.app[AUTH]
    async with auth.database.sessions() as session:
        account = await _account_for(session, identity, request.match_info["account_id"])
    return json_response((await _with_throttle(auth, [account]))[0])


async def _account_for(session: AsyncSession, identity: Identity, account_id: str) -> Account:
    """The account `identity` may act on: for a municipal system, a staff account is a 404,
    as on `GET /accounts/{id}` (a 403 or a 409 would tell it the id is a staff member's)."""
    account = await service.get_account(session, account_id)
    if _families_only(identity) and account.kind != "family":
        raise AccountNotFound("No such account.")
    return account


def _families_only(identity: Identity) -> bool:
    """A municipal system (auth:read) reads the family accounts it may invite or manage;
    the staff's own accounts are none of its business: a staff id is a 404 there."""
    return identity.role != "staff"


async def _with_throttle(auth: AuthContext, accounts: list[Account]) -> list[AccountRead]:
    """Accounts as staff see them: with their current sign-in throttle."""
    window = auth.account_window
    counts = await auth.throttle.counts([account_key(a.email) for a in accounts], window)
    return [
        service.account_read(a).model_copy(
            update={"recent_failures": n, "throttled": n >= window.limit}
        )
        for a, n in zip(accounts, counts, strict=True)
    ]


@routes.post("/accounts/{account_id}/disable")
@operation(
    "Disable an account and end its sessions (staff)",
    tags=("staff",),
    response=AccountRead,
    errors=(404,),
)
async def disable_account(request: web.Request) -> web.Response:
    """POST /accounts/{account_id}/disable."""
    return await _set_disabled(request, disabled=True)


@routes.post("/accounts/{account_id}/enable")
@operation("Re-enable an account (staff)", tags=("staff",), response=AccountRead, errors=(404,))
async def enable_account(request: web.Request) -> web.Response:
    """POST /accounts/{account_id}/enable."""
    return await _set_disabled(request, disabled=False)


async def _set_disabled(request: web.Request, *, disabled: bool) -> web.Response:
    identity = require_staff(request)
    async with request.app[AUTH].database.transaction() as session:
        account = await service.set_disabled(
            session,
            account_id=request.match_info["account_id"],
            disabled=disabled,
            actor_id=identity.subject,
            actor_roles=identity.staff_roles,
        )
    if account.state == "disabled":
        # Once committed: what other services made for the account (bookings' calendar
        # links) stops working from this moment, and stays dead when it is enabled again.
        await mark_disabled(request.app[REDIS], account.id, account.updated_at)
    return json_response(service.account_read(account))


@routes.post("/accounts/{account_id}/unlock")
@operation(
    "Clear the sign-in throttle of an account (staff)",
    tags=("staff",),
    response=AccountRead,
    errors=(404,),
)
async def unlock_account(request: web.Request) -> web.Response:
    """POST /accounts/{account_id}/unlock."""
    identity = require_staff(request)
    auth = request.app[AUTH]
    async with auth.database.transaction() as session:
        account = await service.unlock(
            auth,
            session,
            account_id=request.match_info["account_id"],
            actor=identity.subject,
            actor_roles=identity.staff_roles,
        )
    return json_response((await _with_throttle(auth, [account]))[0])


@routes.post("/accounts/{account_id}/invitation")
@operation(
    "Send the invitation again (staff, auth:write)",
    tags=("staff",),
    response=InvitationRead,
    errors=(404, 409),
)
async def resend_invitation(request: web.Request) -> web.Response:
    """POST /accounts/{account_id}/invitation."""
    identity = require_scope(request, "auth:write")
    auth = request.app[AUTH]
    async with auth.database.transaction() as session:
        account = await _account_for(session, identity, request.match_info["account_id"])
        if account.kind == "staff":
            require_administrator(request)
        invitation = await service.resend_invitation(
            auth, session, account_id=account.id, actor=identity.subject
        )
    body = InvitationRead(
        account=service.account_read(invitation.account),
        invitation_expires_at=invitation.link.expires_at if invitation.link else None,
    )
    return json_response(body)


@routes.post("/accounts/{account_id}/memberships")
@operation(
    "Add a family to a login (staff, auth:write)",
    tags=("staff",),
    request=MembershipBody,
    response=AccountRead,
    status=201,
    errors=(404, 409, 503),
)
async def add_membership(request: web.Request) -> web.Response:
    """POST /accounts/{account_id}/memberships."""
    identity = require_scope(request, "auth:write")
    data = await read_json(request, MembershipBody)
    await require_existing_family(request, data.family_id)
    auth = request.app[AUTH]
    async with auth.database.transaction() as session:
        account = await _account_for(session, identity, request.match_info["account_id"])
        invitation = await service.invite_family(
            auth,
            session,
            email=account.email,
            family_id=data.family_id,
            rights=data.rights,
            actor=identity.subject,
            discreet=_families_only(identity),
        )
    return json_response(service.account_read(invitation.account), status=201)


@routes.delete("/accounts/{account_id}/memberships/{family_id}")
@operation(
    "Remove a family from a login (staff, auth:write)",
    tags=("staff",),
    response=AccountRead,
    errors=(404,),
)
async def remove_membership(request: web.Request) -> web.Response:
    """DELETE /accounts/{account_id}/memberships/{family_id}."""
    identity = require_scope(request, "auth:write")
    async with request.app[AUTH].database.transaction() as session:
        # A staff id must answer as an unknown one (its « no such membership » said it exists).
        account = await _account_for(session, identity, request.match_info["account_id"])
        account = await service.remove_membership(
            session,
            account_id=account.id,
            family_id=request.match_info["family_id"],
            actor=identity.subject,
        )
    # Once committed, like a disablement: the links the login made for that family die.
    await mark_membership_removed(
        request.app[REDIS], account.id, request.match_info["family_id"], account.updated_at
    )
    return json_response(service.account_read(account))


@routes.post("/staff")
@operation(
    "Invite a staff member (administrators)",
    tags=("staff",),
    request=StaffCreate,
    response=InvitationRead,
    status=201,
    errors=(409,),
)
async def invite_staff(request: web.Request) -> web.Response:
    """POST /staff."""
    identity = require_administrator(request)
    data = await read_json(request, StaffCreate)
    auth = request.app[AUTH]
    async with auth.database.transaction() as session:
        invitation = await service.invite_staff(
            auth, session, email=data.email, roles=data.roles, actor=identity.subject
        )
    body = InvitationRead(
        account=service.account_read(invitation.account),
        invitation_expires_at=invitation.link.expires_at if invitation.link else None,
    )
    return json_response(body, status=201)


@routes.put("/accounts/{account_id}/staff-roles")
@operation(
    "Replace a staff member's roles (administrators)",
    tags=("staff",),
    request=StaffRolesUpdate,
    response=AccountRead,
    errors=(404, 409),
)
async def update_staff_roles(request: web.Request) -> web.Response:
    """PUT /accounts/{account_id}/staff-roles."""
    identity = require_administrator(request)
    data = await read_json(request, StaffRolesUpdate)
    async with request.app[AUTH].database.transaction() as session:
        account = await service.set_staff_roles(
            session,
            account_id=request.match_info["account_id"],
            roles=data.roles,
            actor_id=identity.subject,
        )
    return json_response(service.account_read(account))
