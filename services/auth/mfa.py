"""TOTP enrolment and use: optional for families, required for staff before any session."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, or_, update

from services.kit.outbox import utcnow
from services.kit.problems import Conflict, Forbidden, ValidationFailed

from . import events, totp
from .context import AuthContext
from .errors import WrongPassword
from .models import Account, RecoveryCode
from .service import consume_link, emit, get_account, inspect_link, issue_link
from .throttle import account_key


async def start_enrolment_token(auth: AuthContext, account: Account) -> str:
    """A short-lived token letting a signed-in-by-password staff member enrol TOTP."""
    async with auth.database.transaction() as session:
        fresh = await get_account(session, account.id, lock=True)
        link = await issue_link(session, auth.settings, account=fresh, purpose="enrolment")
    return link.token


async def account_from_enrolment_token(auth: AuthContext, token: str) -> str:
    """The account id an enrolment token stands for (the token stays usable until confirmed)."""
    async with auth.database.sessions() as session:
        row = await inspect_link(session, token, "enrolment")
    return row.account_id


async def begin(auth: AuthContext, *, account_id: str) -> tuple[str, str]:
    """A new pending TOTP secret (encrypted at rest); returns it and its otpauth URI."""
    secret = totp.new_secret()
    async with auth.database.transaction() as session:
        account = await get_account(session, account_id, lock=True)
        if account.state != "active":
            raise Forbidden("This account cannot enrol a second factor.")
        if account.totp_enabled_at is not None:
            raise Conflict("A second factor is already enabled; disable it first.")
        account.totp_secret_enc = auth.sealer.seal(secret.encode(), f"totp:{account.id}")
        account.totp_last_step = None
        account.updated_at = utcnow()
    return secret, totp.provisioning_uri(secret, account.email)


async def confirm(
    auth: AuthContext, *, account_id: str, code: str, enrolment_token: str | None = None
) -> list[str]:
    """Enable TOTP once a code from the app matches; returns fresh recovery codes (shown once)."""
    async with auth.database.transaction() as session:
        if enrolment_token is not None:
            await consume_link(session, enrolment_token, "enrolment")
        account = await get_account(session, account_id, lock=True)
        if account.totp_enabled_at is not None:
            raise Conflict("A second factor is already enabled.")
        if account.totp_secret_enc is None:
            raise Conflict("Start the enrolment first.")
        secret = auth.sealer.open(account.totp_secret_enc, f"totp:{account.id}").decode()
        step = totp.matching_step(secret, code)
        if step is None:
            raise ValidationFailed(
                "This code does not match; check the time of your phone and try again.",
                errors=[{"field": "code", "message": "code invalide"}],
            )
        account.totp_enabled_at = utcnow()
        account.totp_last_step = step  # the code used to confirm cannot sign in too
        account.updated_at = utcnow()
        await session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
        codes = totp.new_recovery_codes()
        session.add_all(
            RecoveryCode(
                id=str(uuid.uuid4()), account_id=account.id, code_hash=totp.recovery_digest(c)
            )
            for c in codes
        )
        emit(session, events.MFA_ENABLED, account=account)
    return codes


async def use_second_factor(auth: AuthContext, account_id: str, code: str) -> bool:
    """Accept a TOTP code of a step after the last one used, or an unused recovery code."""
    code = code.strip()
    async with auth.database.transaction() as session:
        account = await get_account(session, account_id)
        if account.totp_secret_enc is None or account.totp_enabled_at is None:
            return False
        if totp.is_totp_shape(code):
            secret = auth.sealer.open(account.totp_secret_enc, f"totp:{account.id}").decode()
            step = totp.matching_step(secret, code)
            if step is None:
                return False
            # Atomic: of two sign-ins racing with one code, only one moves the step forward.
            moved = await session.scalar(
                update(Account)
                .where(
                    Account.id == account_id,
                    or_(Account.totp_last_step.is_(None), Account.totp_last_step < step),
                )
                .values(totp_last_step=step)
                .returning(Account.id)
            )
            return moved is not None
        used = await session.scalar(
            update(RecoveryCode)
            .where(
                RecoveryCode.account_id == account_id,
                RecoveryCode.code_hash == totp.recovery_digest(code),
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=utcnow())
            .returning(RecoveryCode.id)
        )
        return used is not None


async def disable(auth: AuthContext, *, account_id: str, password: str) -> None:
    """Turn TOTP off (families only: staff must keep it), proven by the password."""
    async with auth.database.sessions() as session:
        account = await get_account(session, account_id)
    if account.kind == "staff":
        raise Forbidden("Staff accounts must keep their second factor.")
    # A password check like sign-in's: it draws on the account's guessing bucket (429 past
    # it), or a session left open would be an unmetered oracle for the password.
    bucket = account_key(account.email)
    attempt = await auth.throttle.reserve(bucket, auth.account_window)
    if not await auth.passwords.verify(account.password_hash, password):
        raise WrongPassword("The password is not correct.")
    await auth.throttle.release(bucket, attempt)
    async with auth.database.transaction() as session:
        account = await get_account(session, account_id, lock=True)
        account.totp_secret_enc = None
        account.totp_enabled_at = None
        account.totp_last_step = None
        account.updated_at = utcnow()
        await session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
        emit(session, events.MFA_DISABLED, account=account)
