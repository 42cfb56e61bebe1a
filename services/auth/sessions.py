"""Signing in and out, sessions, and passwords (first one, change, forgotten)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from services.kit import revoked_sessions
from services.kit.outbox import utcnow
from services.kit.problems import Forbidden

from . import events, mfa
from .context import AuthContext
from .crypto import digest, new_token, well_formed
from .errors import (
    InvalidCredentials,
    MfaEnrolmentRequired,
    MfaRequired,
    SessionExpired,
    WeakPassword,
    WrongPassword,
)
from .models import Account, OneTimeToken, Session
from .passwords import check_rule
from .schemas import SessionCreate
from .service import (
    consume_link,
    emit,
    find_by_email,
    get_account,
    inspect_link,
    issue_link,
    revoke_sessions,
)
from .throttle import account_key, ip_key, mail_key
from .tokens import account_claims

SAME_ANSWER = "E-mail or password incorrect."


@dataclass(frozen=True)
class NewSession:
    """A session secret (given once to the gateway) and the first token."""

    session_token: str
    token: str
    expires_in: int
    account: Account


def check_password_rule(password: str, *, email: str, field: str = "password") -> None:
    """Raise `WeakPassword` listing every broken part of the rule."""
    breaks = check_rule(password, email=email)
    if breaks:
        raise WeakPassword(
            "The password does not follow the rule.",
            errors=[{"field": field, "code": b.code, "message": b.message} for b in breaks],
        )


async def open_session(
    auth: AuthContext, session: AsyncSession, account: Account, *, client_ip: str
) -> tuple[Session, str]:
    """A new server-side session (a new id at every sign-in); returns it and its secret."""
    now = utcnow()
    secret = new_token()
    row = Session(
        id=str(uuid.uuid4()),
        account_id=account.id,
        token_hash=digest(secret),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(seconds=auth.settings.session_absolute_seconds),
        client_ip=client_ip[:45],
    )
    session.add(row)
    account.last_login_at = now
    emit(session, events.LOGIN_SUCCEEDED, account=account, client_ip=client_ip)
    await session.flush()
    return row, secret


async def _record_failure(
    auth: AuthContext, account: Account | None, *, reason: str, ip: str
) -> None:
    # Written for unknown e-mails too (without any address): both paths cost the same.
    async with auth.database.transaction() as session:
        if account is not None:
            emit(session, events.LOGIN_FAILED, account=account, reason=reason, client_ip=ip)
        else:
            emit(session, events.LOGIN_FAILED, account_id=None, reason=reason, client_ip=ip)


async def sign_in(auth: AuthContext, *, data: SessionCreate, client_ip: str) -> NewSession:
    """Check the e-mail, password and second factor; open a session."""
    await auth.throttle.reserve(ip_key(client_ip), auth.ip_window)
    bucket = account_key(data.email)
    attempt = await auth.throttle.reserve(bucket, auth.account_window)
    async with auth.database.sessions() as session:
        account = await find_by_email(session, data.email)
    usable = account is not None and account.state == "active"
    stored = account.password_hash if account is not None and usable else None
    if not await auth.passwords.verify(stored, data.password):
        await _record_failure(auth, account, reason="password", ip=client_ip)
        raise InvalidCredentials(SAME_ANSWER)
    assert account is not None
    # From here on the password was right: saying why is no longer an enumeration.
    if account.totp_enabled_at is None and account.kind == "staff":
        await auth.throttle.release(bucket, attempt)
        enrolment = await mfa.start_enrolment_token(auth, account)
        raise MfaEnrolmentRequired(
            "Staff accounts need an authenticator app: enrol one first.",
            enrolment_token=enrolment,
        )
    if account.totp_enabled_at is not None:
        if not data.totp_code:
            await auth.throttle.release(bucket, attempt)
            raise MfaRequired("Enter the code of your authenticator app.")
        if not await mfa.use_second_factor(auth, account.id, data.totp_code):
            await _record_failure(auth, account, reason="second_factor", ip=client_ip)
            raise MfaRequired("This code is not valid (or was already used).")
    await auth.throttle.release(bucket, attempt)
    async with auth.database.transaction() as session:
        account = await get_account(session, account.id, lock=True)
        if account.state != "active":
            raise InvalidCredentials(SAME_ANSWER)
        if account.password_hash and auth.passwords.needs_rehash(account.password_hash):
            account.password_hash = await auth.passwords.hash(data.password)
        row, secret = await open_session(auth, session, account, client_ip=client_ip)
    token = await auth.issuer.issue(account_claims(account, session_id=row.id))
    return NewSession(secret, token, auth.issuer.ttl, account)


async def refresh(auth: AuthContext, *, session_token: str) -> tuple[str, int]:
    """A fresh token for a live session; idle and absolute timeouts end it."""
    if not well_formed(session_token):
        raise SessionExpired("Sign in again.")
    now = utcnow()
    idle_limit = now - timedelta(seconds=auth.settings.session_idle_seconds)
    async with auth.database.transaction() as session:
        found = (
            await session.execute(
                update(Session)
                .where(
                    Session.token_hash == digest(session_token),
                    Session.revoked_at.is_(None),
                    Session.expires_at > now,
                    Session.last_seen_at > idle_limit,
                )
                .values(last_seen_at=now)
                .returning(Session.id, Session.account_id)
            )
        ).first()
        if found is None:
            raise SessionExpired("Sign in again.")
        session_id, account_id = found
        account = await get_account(session, account_id)
        if account.state != "active":
            await revoke_sessions(session, account.id)
            raise SessionExpired("Sign in again.")
    token = await auth.issuer.issue(account_claims(account, session_id=session_id))
    return token, auth.issuer.ttl


async def sign_out(auth: AuthContext, *, session_token: str) -> None:
    """Revoke the session (idempotent: an unknown or ended one is simply nothing to do)."""
    if not well_formed(session_token):
        return
    async with auth.database.transaction() as session:
        account_id = await session.scalar(
            update(Session)
            .where(Session.token_hash == digest(session_token), Session.revoked_at.is_(None))
            .values(revoked_at=utcnow())
            .returning(Session.account_id)
        )
        if account_id is not None:
            revoked_sessions.note([digest(session_token)])
            account = await get_account(session, account_id)
            emit(session, events.LOGGED_OUT, account=account)


# ---- passwords -------------------------------------------------------------------------


@dataclass(frozen=True)
class FirstSignIn:
    """Families are signed in at once; staff get an MFA-enrolment token instead."""

    account: Account
    session: NewSession | None
    enrolment_token: str | None


async def accept_invitation(
    auth: AuthContext, *, token: str, password: str, client_ip: str
) -> FirstSignIn:
    """Set the first password through the invitation link and sign in."""
    await auth.throttle.reserve(ip_key(client_ip, "link"), auth.ip_window)
    async with auth.database.sessions() as session:
        row = await inspect_link(session, token, "invitation")
        account = await get_account(session, row.account_id)
    # The rule is checked before the link is used: a refused password does not burn it.
    check_password_rule(password, email=account.email)
    password_hash = await auth.passwords.hash(password)
    async with auth.database.transaction() as session:
        account_id = await consume_link(session, token, "invitation")
        account = await get_account(session, account_id, lock=True)
        if account.state != "invited":
            raise Forbidden("This account cannot be activated.")
        account.password_hash = password_hash
        account.state = "active"
        account.updated_at = utcnow()
        emit(session, events.ACCOUNT_ACTIVATED, account=account)
        if account.kind == "staff":
            enrolment = await issue_link(
                session, auth.settings, account=account, purpose="enrolment"
            )
            return FirstSignIn(account, None, enrolment.token)
        row_session, secret = await open_session(auth, session, account, client_ip=client_ip)
    token_value = await auth.issuer.issue(account_claims(account, session_id=row_session.id))
    return FirstSignIn(account, NewSession(secret, token_value, auth.issuer.ttl, account), None)


async def request_reset(auth: AuthContext, *, email: str) -> None:
    """Send a reset link when the account exists and is active (run after the answer)."""
    async with auth.database.transaction() as session:
        account = await find_by_email(session, email)
        if account is None or account.state != "active":
            return
        # A mail-bomb guard: beyond a few links an hour, the request is silently dropped.
        if not await auth.throttle.allow(mail_key(account.id, "reset"), auth.mail_window):
            return
        link = await issue_link(session, auth.settings, account=account, purpose="reset")
        emit(
            session,
            events.PASSWORD_RESET_REQUESTED,
            account=account,
            email=account.email,
            link=link.link,
            expires_at=link.expires_at.isoformat(),
        )


async def confirm_reset(auth: AuthContext, *, token: str, password: str, client_ip: str) -> None:
    """Set a new password through a reset link; every session of the account ends."""
    await auth.throttle.reserve(ip_key(client_ip, "link"), auth.ip_window)
    async with auth.database.sessions() as session:
        row = await inspect_link(session, token, "reset")
        account = await get_account(session, row.account_id)
    check_password_rule(password, email=account.email)
    password_hash = await auth.passwords.hash(password)
    async with auth.database.transaction() as session:
        account_id = await consume_link(session, token, "reset")
        account = await get_account(session, account_id, lock=True)
        if account.state != "active":
            raise Forbidden("This account is disabled.")
        account.password_hash = password_hash
        account.updated_at = utcnow()
        revoked = await revoke_sessions(session, account.id)
        emit(session, events.PASSWORD_RESET_COMPLETED, account=account, sessions_revoked=revoked)
    # Whoever reset the password has proven their identity: lift any guessing throttle.
    await auth.throttle.clear(account_key(account.email))


async def change_password(
    auth: AuthContext,
    *,
    account_id: str,
    current: str,
    new: str,
    session_token: str | None,
) -> int:
    """Change the password after checking the current one; other sessions end."""
    async with auth.database.sessions() as session:
        account = await get_account(session, account_id)
    bucket = account_key(account.email)
    attempt = await auth.throttle.reserve(bucket, auth.account_window)
    if account.state != "active" or not await auth.passwords.verify(account.password_hash, current):
        raise WrongPassword("The current password is not correct.")
    await auth.throttle.release(bucket, attempt)
    check_password_rule(new, email=account.email, field="new")
    password_hash = await auth.passwords.hash(new)
    keep = digest(session_token) if session_token and well_formed(session_token) else None
    async with auth.database.transaction() as session:
        account = await get_account(session, account_id, lock=True)
        account.password_hash = password_hash
        account.updated_at = utcnow()
        revoked = await revoke_sessions(session, account.id, keep_token_hash=keep)
        emit(session, events.PASSWORD_CHANGED, account=account, sessions_revoked=revoked)
    return revoked


async def load_account(auth: AuthContext, account_id: str) -> Account:
    """An account by id (for `/accounts/me`)."""
    async with auth.database.sessions() as session:
        return await get_account(session, account_id)


async def activate_with_password(
    auth: AuthContext, *, account_id: str, password: str, apply_rule: bool = True
) -> Account:
    """Set the first password of an invited account directly (command line, dev seed)."""
    async with auth.database.sessions() as session:
        account = await get_account(session, account_id)
    if apply_rule:
        check_password_rule(password, email=account.email)
    password_hash = await auth.passwords.hash(password)
    async with auth.database.transaction() as session:
        account = await get_account(session, account_id, lock=True)
        if account.state != "invited":
            raise Forbidden("This account is not waiting for its first password.")
        await session.execute(
            update(OneTimeToken)
            .where(OneTimeToken.account_id == account.id, OneTimeToken.used_at.is_(None))
            .values(used_at=utcnow())
        )
        account.password_hash = password_hash
        account.state = "active"
        account.updated_at = utcnow()
        emit(session, events.ACCOUNT_ACTIVATED, account=account, via="command-line")
    return account
