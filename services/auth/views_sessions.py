"""Anonymous endpoints the gateway calls for the browser: keys, sessions, links, passwords."""

from __future__ import annotations

from aiohttp import web

from services.kit.bodies import json_response, read_json
from services.kit.openapi import operation

from . import mfa, service, sessions
from .context import AUTH
from .errors import MfaEnrolmentRequired
from .passwords import MAX_LENGTH, MIN_LENGTH, check_rule
from .requests import (
    ENROLMENT_HEADER,
    client_ip,
    session_token,
)
from .schemas import (
    Accepted,
    InvitationAccept,
    InvitationAccepted,
    LinkCheck,
    LinkChecked,
    PasswordResetConfirm,
    PasswordResetRequest,
    PasswordRuleCheck,
    PasswordRuleResult,
    RecoveryCodes,
    RuleBreakRead,
    SessionCreate,
    SessionCreated,
    TokenRefreshed,
    TotpCode,
    TotpEnrolment,
)
from .throttle import ip_key

routes = web.RouteTableDef()
RESET_ANSWER = (
    "If an active account has this e-mail, a link to choose a new password is on its way."
)
RENEW_ANSWER = (
    "If this link belonged to an account still waiting for its first sign-in, "
    "a new one is on its way."
)


@routes.get("/.well-known/jwks.json")
@operation("The public keys that verify our tokens (JWKS)", tags=("keys",), auth=False)
async def jwks(request: web.Request) -> web.Response:
    """GET /.well-known/jwks.json: pending, current and recent previous keys."""
    document = await request.app[AUTH].keyring.jwks()
    # Short: a cache in front plus the verifiers' own 30 s stay under the 60 s activation delay.
    return web.json_response(document, headers={"Cache-Control": "public, max-age=10"})


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


@routes.post("/mfa/enrolment")
@operation(
    "Staff's first TOTP enrolment, with the X-Enrolment-Token from sign-in",
    tags=("mfa",),
    response=TotpEnrolment,
    status=201,
    errors=(400, 403, 410),
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
    errors=(400, 403, 410),
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
