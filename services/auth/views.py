"""HTTP handlers: parse, check the caller, call the service, serialise."""

from __future__ import annotations

from aiohttp import web
from pydantic import ValidationError

from services.kit.bodies import field_errors, json_response, read_json, read_query
from services.kit.identity import require_scope, require_staff
from services.kit.openapi import operation
from services.kit.problems import BadRequest, UnsupportedMediaType, ValidationFailed

from . import clients, mfa, service, sessions, signing
from .context import AUTH, AuthContext
from .errors import InvalidClient, MfaEnrolmentRequired
from .models import Account
from .passwords import MAX_LENGTH, MIN_LENGTH, check_rule
from .requests import (
    BASIC_CREDENTIALS,
    ENROLMENT_HEADER,
    client_ip,
    require_account,
    require_administrator,
    session_token,
)
from .schemas import (
    Accepted,
    AccessToken,
    AccountList,
    AccountQuery,
    AccountRead,
    ApiClientCreate,
    ApiClientCreated,
    ApiClientRead,
    InvitationAccept,
    InvitationAccepted,
    InvitationCreate,
    InvitationRead,
    KeyRotated,
    LinkCheck,
    LinkChecked,
    MembershipBody,
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetRequest,
    PasswordRuleCheck,
    PasswordRuleResult,
    RecoveryCodes,
    RuleBreakRead,
    SessionCreate,
    SessionCreated,
    StaffCreate,
    StaffRolesUpdate,
    TokenRefreshed,
    TokenRequest,
    TotpCode,
    TotpDisable,
    TotpEnrolment,
)
from .throttle import account_key, ip_key

routes = web.RouteTableDef()
RESET_ANSWER = (
    "If an active account has this e-mail, a link to choose a new password is on its way."
)
RENEW_ANSWER = (
    "If this link belonged to an account still waiting for its first sign-in, "
    "a new one is on its way."
)


# ---- keys ------------------------------------------------------------------------------


@routes.get("/.well-known/jwks.json")
@operation("The public keys that verify our tokens (JWKS)", tags=("keys",), auth=False)
async def jwks(request: web.Request) -> web.Response:
    """GET /.well-known/jwks.json: pending, current and recent previous keys."""
    document = await request.app[AUTH].keyring.jwks()
    # Short: a cache in front plus the verifiers' own 30 s stay under the 60 s activation delay.
    return web.json_response(document, headers={"Cache-Control": "public, max-age=10"})


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


# ---- sessions --------------------------------------------------------------------------


@routes.post("/sessions")
@operation(
    "Sign in: a server-side session for the gateway and a first token",
    tags=("sessions",),
    request=SessionCreate,
    response=SessionCreated,
    status=201,
    errors=(401, 429),
    auth=False,
)
async def create_session(request: web.Request) -> web.Response:
    """POST /sessions."""
    auth = request.app[AUTH]
    data = await read_json(request, SessionCreate)
    created = await sessions.sign_in(auth, data=data, client_ip=client_ip(request, auth.settings))
    body = SessionCreated(
        session_token=created.session_token, token=created.token, expires_in=created.expires_in
    )
    return json_response(body, status=201)


@routes.post("/sessions/refresh")
@operation(
    "A fresh token for the session in X-Session-Token",
    tags=("sessions",),
    response=TokenRefreshed,
    errors=(401,),
    auth=False,
)
async def refresh_session(request: web.Request) -> web.Response:
    """POST /sessions/refresh."""
    token, ttl = await sessions.refresh(request.app[AUTH], session_token=session_token(request))
    return json_response(TokenRefreshed(token=token, expires_in=ttl))


@routes.delete("/sessions/current")
@operation(
    "Sign out: revoke the session in X-Session-Token", tags=("sessions",), status=204, auth=False
)
async def delete_session(request: web.Request) -> web.Response:
    """DELETE /sessions/current."""
    await sessions.sign_out(request.app[AUTH], session_token=session_token(request))
    return web.Response(status=204)


# ---- invitations and first sign-in -----------------------------------------------------


@routes.post("/invitations")
@operation(
    "Invite a family account, or add a family to an existing login (staff, auth:write)",
    tags=("invitations",),
    request=InvitationCreate,
    response=InvitationRead,
    status=201,
    errors=(409,),
)
async def create_invitation(request: web.Request) -> web.Response:
    """POST /invitations: 201 with a new account, 200 when an existing login got the family."""
    identity = require_scope(request, "auth:write")
    data = await read_json(request, InvitationCreate)
    auth = request.app[AUTH]
    async with auth.database.transaction() as session:
        invitation = await service.invite_family(
            auth,
            session,
            email=data.email,
            family_id=data.family_id,
            rights=data.rights,
            actor=identity.subject,
        )
    body = InvitationRead(
        account=service.account_read(invitation.account),
        invitation_expires_at=invitation.link.expires_at if invitation.link else None,
    )
    return json_response(body, status=201 if invitation.created else 200)


@routes.post("/invitations/check")
@operation(
    "Check an invitation link before asking for a password",
    tags=("invitations",),
    request=LinkCheck,
    response=LinkChecked,
    errors=(410,),
    auth=False,
)
async def check_invitation(request: web.Request) -> web.Response:
    """POST /invitations/check: 200, or token-invalid / token-expired / token-used."""
    return await _check_link(request, "invitation")


@routes.post("/invitations/accept")
@operation(
    "First sign-in: choose a password through the invitation link",
    tags=("invitations",),
    request=InvitationAccept,
    response=InvitationAccepted,
    status=201,
    errors=(410, 429),
    auth=False,
)
async def accept_invitation(request: web.Request) -> web.Response:
    """POST /invitations/accept."""
    auth = request.app[AUTH]
    data = await read_json(request, InvitationAccept)
    result = await sessions.accept_invitation(
        auth, token=data.token, password=data.password, client_ip=client_ip(request, auth.settings)
    )
    session_body = (
        SessionCreated(
            session_token=result.session.session_token,
            token=result.session.token,
            expires_in=result.session.expires_in,
        )
        if result.session
        else None
    )
    body = InvitationAccepted(
        account_id=result.account.id,
        session=session_body,
        mfa_enrolment_required=result.enrolment_token is not None,
        enrolment_token=result.enrolment_token,
    )
    return json_response(body, status=201)


@routes.post("/invitations/renew")
@operation(
    "Ask for a new invitation link from an expired or used one",
    tags=("invitations",),
    request=LinkCheck,
    response=Accepted,
    status=202,
    auth=False,
)
async def renew_invitation(request: web.Request) -> web.Response:
    """POST /invitations/renew: always 202, the same body."""
    data = await read_json(request, LinkCheck)
    auth = request.app[AUTH]
    auth.run_in_background(
        service.renew_invitation_from_link(auth, token=data.token), "renew-invitation"
    )
    return json_response(Accepted(detail=RENEW_ANSWER), status=202)


# ---- passwords -------------------------------------------------------------------------


@routes.post("/password-rule")
@operation(
    "Check a candidate password against the rule (nothing stored)",
    tags=("passwords",),
    request=PasswordRuleCheck,
    response=PasswordRuleResult,
    auth=False,
)
async def password_rule(request: web.Request) -> web.Response:
    """POST /password-rule."""
    data = await read_json(request, PasswordRuleCheck)
    breaks = check_rule(data.password, email=data.email)
    body = PasswordRuleResult(
        acceptable=not breaks,
        breaks=[RuleBreakRead(code=b.code, message=b.message) for b in breaks],
        min_length=MIN_LENGTH,
        max_length=MAX_LENGTH,
    )
    return json_response(body)


@routes.post("/password-resets")
@operation(
    "Forgotten password: a link by e-mail if the account exists (same answer either way)",
    tags=("passwords",),
    request=PasswordResetRequest,
    response=Accepted,
    status=202,
    errors=(429,),
    auth=False,
)
async def request_password_reset(request: web.Request) -> web.Response:
    """POST /password-resets: always 202, the same body, the same time."""
    auth = request.app[AUTH]
    data = await read_json(request, PasswordResetRequest)
    await auth.throttle.reserve(ip_key(client_ip(request, auth.settings), "reset"), auth.ip_window)
    # The lookup and the e-mail happen after the answer: its timing says nothing.
    auth.run_in_background(sessions.request_reset(auth, email=data.email), "password-reset")
    return json_response(Accepted(detail=RESET_ANSWER), status=202)


@routes.post("/password-resets/check")
@operation(
    "Check a reset link before asking for the new password",
    tags=("passwords",),
    request=LinkCheck,
    response=LinkChecked,
    errors=(410,),
    auth=False,
)
async def check_password_reset(request: web.Request) -> web.Response:
    """POST /password-resets/check."""
    return await _check_link(request, "reset")


@routes.post("/password-resets/confirm")
@operation(
    "Choose a new password through a reset link; every session ends",
    tags=("passwords",),
    request=PasswordResetConfirm,
    status=204,
    errors=(410, 429),
    auth=False,
)
async def confirm_password_reset(request: web.Request) -> web.Response:
    """POST /password-resets/confirm."""
    auth = request.app[AUTH]
    data = await read_json(request, PasswordResetConfirm)
    await sessions.confirm_reset(
        auth, token=data.token, password=data.password, client_ip=client_ip(request, auth.settings)
    )
    return web.Response(status=204)


async def _check_link(request: web.Request, purpose: str) -> web.Response:
    data = await read_json(request, LinkCheck)
    async with request.app[AUTH].database.sessions() as session:
        row = await service.inspect_link(session, data.token, purpose)
        account = await service.get_account(session, row.account_id)
    return json_response(
        LinkChecked(email_hint=service.mask_email(account.email), expires_at=row.expires_at)
    )


# ---- one's own account -----------------------------------------------------------------


@routes.get("/accounts/me")
@operation("The caller's own account", tags=("accounts",), response=AccountRead)
async def read_me(request: web.Request) -> web.Response:
    """GET /accounts/me."""
    identity = require_account(request)
    account = await sessions.load_account(request.app[AUTH], identity.subject)
    return json_response(service.account_read(account))


@routes.post("/accounts/me/password")
@operation(
    "Change one's password (the current one is asked); other sessions end",
    tags=("accounts",),
    request=PasswordChange,
    status=204,
    errors=(429,),
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
@operation("Start TOTP enrolment", tags=("mfa",), response=TotpEnrolment, status=201, errors=(409,))
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
    errors=(409,),
)
async def confirm_totp(request: web.Request) -> web.Response:
    """POST /accounts/me/totp/confirm."""
    identity = require_account(request)
    data = await read_json(request, TotpCode)
    codes = await mfa.confirm(request.app[AUTH], account_id=identity.subject, code=data.code)
    return json_response(RecoveryCodes(recovery_codes=codes))


@routes.post("/accounts/me/totp/disable")
@operation("Turn TOTP off (families only)", tags=("mfa",), request=TotpDisable, status=204)
async def disable_totp(request: web.Request) -> web.Response:
    """POST /accounts/me/totp/disable."""
    identity = require_account(request)
    data = await read_json(request, TotpDisable)
    await mfa.disable(request.app[AUTH], account_id=identity.subject, password=data.password)
    return web.Response(status=204)


@routes.post("/mfa/enrolment")
@operation(
    "Staff's first TOTP enrolment, with the X-Enrolment-Token from sign-in",
    tags=("mfa",),
    response=TotpEnrolment,
    status=201,
    errors=(410,),
    auth=False,
)
async def begin_enrolment(request: web.Request) -> web.Response:
    """POST /mfa/enrolment."""
    auth = request.app[AUTH]
    account_id = await mfa.account_from_enrolment_token(auth, _enrolment_token(request))
    secret, uri = await mfa.begin(auth, account_id=account_id)
    return json_response(TotpEnrolment(secret=secret, otpauth_uri=uri), status=201)


@routes.post("/mfa/enrolment/confirm")
@operation(
    "Confirm the staff enrolment; then sign in with a code",
    tags=("mfa",),
    request=TotpCode,
    response=RecoveryCodes,
    errors=(410,),
    auth=False,
)
async def confirm_enrolment(request: web.Request) -> web.Response:
    """POST /mfa/enrolment/confirm."""
    auth = request.app[AUTH]
    token = _enrolment_token(request)
    account_id = await mfa.account_from_enrolment_token(auth, token)
    data = await read_json(request, TotpCode)
    codes = await mfa.confirm(auth, account_id=account_id, code=data.code, enrolment_token=token)
    return json_response(RecoveryCodes(recovery_codes=codes))


def _enrolment_token(request: web.Request) -> str:
    token = request.headers.get(ENROLMENT_HEADER, "").strip()
    if not token:
        raise MfaEnrolmentRequired(f"Send the enrolment token in {ENROLMENT_HEADER}.")
    return token


# ---- staff: accounts -------------------------------------------------------------------


@routes.get("/accounts")
@operation(
    "List and search accounts (staff)",
    tags=("staff",),
    response=AccountList,
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
    require_staff(request)
    query = read_query(request, AccountQuery)
    auth = request.app[AUTH]
    async with auth.database.sessions() as session:
        rows, total = await service.list_accounts(session, query)
    return json_response(AccountList(items=await _with_throttle(auth, rows), total=total))


@routes.get("/accounts/{account_id}")
@operation("One account (staff)", tags=("staff",), response=AccountRead, errors=(404,))
async def read_account(request: web.Request) -> web.Response:
    """GET /accounts/{account_id}."""
    require_staff(request)
    auth = request.app[AUTH]
    async with auth.database.sessions() as session:
        account = await service.get_account(session, request.match_info["account_id"])
    return json_response((await _with_throttle(auth, [account]))[0])


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
            auth, session, account_id=request.match_info["account_id"], actor=identity.subject
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
        account = await service.get_account(session, request.match_info["account_id"])
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
    errors=(404, 409),
)
async def add_membership(request: web.Request) -> web.Response:
    """POST /accounts/{account_id}/memberships."""
    identity = require_scope(request, "auth:write")
    data = await read_json(request, MembershipBody)
    auth = request.app[AUTH]
    async with auth.database.transaction() as session:
        account = await service.get_account(session, request.match_info["account_id"])
        invitation = await service.invite_family(
            auth,
            session,
            email=account.email,
            family_id=data.family_id,
            rights=data.rights,
            actor=identity.subject,
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
        account = await service.remove_membership(
            session,
            account_id=request.match_info["account_id"],
            family_id=request.match_info["family_id"],
            actor=identity.subject,
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


# ---- API clients -----------------------------------------------------------------------


@routes.post("/api-clients")
@operation(
    "Create an API client; its secret is shown this once (administrators)",
    tags=("api-clients",),
    request=ApiClientCreate,
    response=ApiClientCreated,
    status=201,
)
async def create_api_client(request: web.Request) -> web.Response:
    """POST /api-clients."""
    identity = require_administrator(request)
    data = await read_json(request, ApiClientCreate)
    client, secret = await clients.create(
        request.app[AUTH], name=data.name, scopes=data.scopes, actor=identity.subject
    )
    body = ApiClientCreated(
        **ApiClientRead.model_validate(client).model_dump(), client_secret=secret
    )
    return json_response(body, status=201)


@routes.get("/api-clients")
@operation("List API clients (administrators)", tags=("api-clients",), response=ApiClientRead)
async def list_api_clients(request: web.Request) -> web.Response:
    """GET /api-clients."""
    require_administrator(request)
    rows = await clients.list_all(request.app[AUTH])
    return json_response([ApiClientRead.model_validate(c) for c in rows])


@routes.delete("/api-clients/{client_id}")
@operation(
    "Revoke an API client (administrators)", tags=("api-clients",), status=204, errors=(404,)
)
async def revoke_api_client(request: web.Request) -> web.Response:
    """DELETE /api-clients/{client_id}."""
    identity = require_administrator(request)
    await clients.revoke(
        request.app[AUTH], client_id=request.match_info["client_id"], actor=identity.subject
    )
    return web.Response(status=204)


@routes.post("/oauth/token")
@operation(
    "OAuth 2 client credentials: a short-lived token for a municipal system",
    tags=("api-clients",),
    response=AccessToken,
    errors=(400, 401, 415, 422),
    auth=False,
)
async def oauth_token(request: web.Request) -> web.Response:
    """POST /oauth/token (client_secret_basic or client_secret_post; form or JSON)."""
    data = await _token_request(request)
    if data.grant_type != "client_credentials":
        raise BadRequest(
            "Only the client_credentials grant is supported.", error="unsupported_grant_type"
        )
    basic = request.get(BASIC_CREDENTIALS)
    if basic is not None:
        client_id, client_secret = basic
    elif data.client_id and data.client_secret:
        client_id, client_secret = data.client_id, data.client_secret
    else:
        raise InvalidClient("Client credentials are missing.", error="invalid_client")
    token, scopes = await clients.exchange(
        request.app[AUTH], client_id=client_id, client_secret=client_secret, scope=data.scope
    )
    body = AccessToken(
        access_token=token,
        token_type="Bearer",  # noqa: S106 - the OAuth token type
        expires_in=request.app[AUTH].issuer.ttl,
        scope=" ".join(scopes),
    )
    return web.Response(
        text=body.model_dump_json(),
        content_type="application/json",
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


async def _token_request(request: web.Request) -> TokenRequest:
    if request.content_type == "application/json":
        return await read_json(request, TokenRequest)
    if request.content_type != "application/x-www-form-urlencoded":
        raise UnsupportedMediaType("Send the form as application/x-www-form-urlencoded or JSON.")
    form = await request.post()
    try:
        return TokenRequest.model_validate({k: str(v) for k, v in form.items()})
    except ValidationError as exc:
        raise ValidationFailed(
            "Some fields are missing or invalid.", errors=field_errors(exc)
        ) from None
