"""One's own account: read it, change the password, the optional second factor."""

from __future__ import annotations

from aiohttp import web

from services.kit.bodies import json_response, read_json
from services.kit.openapi import operation

from . import mfa, service, sessions
from .context import AUTH
from .requests import require_account, session_token
from .schemas import (
    AccountPreferences,
    AccountRead,
    PasswordChange,
    RecoveryCodes,
    TotpCode,
    TotpDisable,
    TotpEnrolment,
)

routes = web.RouteTableDef()


@routes.get("/accounts/me")
@operation("The caller's own account", tags=("accounts",), response=AccountRead, errors=(404,))
async def read_me(request: web.Request) -> web.Response:
    """GET /accounts/me."""
    identity = require_account(request)
    account = await sessions.load_account(request.app[AUTH], identity.subject)
    return json_response(service.account_read(account))


@routes.patch("/accounts/me")
@operation(
    "Set one's preferences: the language of one's e-mails",
    tags=("accounts",),
    request=AccountPreferences,
    response=AccountRead,
    errors=(404, 422),
)
async def update_me(request: web.Request) -> web.Response:
    """PATCH /accounts/me {language} (the gateway sends it when the visitor switches)."""
    identity = require_account(request)
    data = await read_json(request, AccountPreferences)
    async with request.app[AUTH].database.transaction() as session:
        account = await service.set_language(
            session, account_id=identity.subject, language=data.language
        )
    return json_response(service.account_read(account))


@routes.post("/accounts/me/password")
@operation(
    "Change one's password (the current one is asked); other sessions end",
    tags=("accounts",),
    request=PasswordChange,
    status=204,
    errors=(404, 422, 429),
)
async def change_password(request: web.Request) -> web.Response:
    """POST /accounts/me/password (send X-Session-Token to keep the current session)."""
    identity = require_account(request)
    data = await read_json(request, PasswordChange)
    await sessions.change_password(
        request.app[AUTH],
        account_id=identity.subject,
        current=data.current,
        new=data.new,
        session_token=session_token(request) or None,
    )
    return web.Response(status=204)


@routes.post("/accounts/me/totp")
@operation(
    "Start TOTP enrolment", tags=("mfa",), response=TotpEnrolment, status=201, errors=(404, 409)
)
async def begin_totp(request: web.Request) -> web.Response:
    """POST /accounts/me/totp."""
    identity = require_account(request)
    secret, uri = await mfa.begin(request.app[AUTH], account_id=identity.subject)
    return json_response(TotpEnrolment(secret=secret, otpauth_uri=uri), status=201)


@routes.post("/accounts/me/totp/confirm")
@operation(
    "Confirm TOTP with a code; returns recovery codes once",
    tags=("mfa",),
    request=TotpCode,
    response=RecoveryCodes,
    errors=(404, 409),
)
async def confirm_totp(request: web.Request) -> web.Response:
    """POST /accounts/me/totp/confirm."""
    identity = require_account(request)
    data = await read_json(request, TotpCode)
    codes = await mfa.confirm(request.app[AUTH], account_id=identity.subject, code=data.code)
    return json_response(RecoveryCodes(recovery_codes=codes))


@routes.post("/accounts/me/totp/disable")
@operation(
    "Turn TOTP off (families only)",
    tags=("mfa",),
    request=TotpDisable,
    status=204,
    errors=(404,),
)
async def disable_totp(request: web.Request) -> web.Response:
    """POST /accounts/me/totp/disable."""
    identity = require_account(request)
    data = await read_json(request, TotpDisable)
    await mfa.disable(request.app[AUTH], account_id=identity.subject, password=data.password)
    return web.Response(status=204)
