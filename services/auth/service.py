"""Accounts, memberships and invitations: the rules, with no HTTP in them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.kit import revoked_sessions
from services.kit.outbox import record_event, utcnow
from services.kit.problems import Conflict, Forbidden

from . import events
from .config import AuthSettings
from .context import AuthContext
from .crypto import digest, new_token, well_formed
from .errors import AccountExists, AccountNotFound, TokenExpired, TokenInvalid, TokenUsed
from .models import Account, Membership, OneTimeToken, OutboxMessage, Session
from .schemas import AccountQuery, AccountRead, MembershipRead
from .throttle import account_key, mail_key

SOURCE = AuthSettings.service_name
LINK_PATHS = {"invitation": "/premiere-connexion", "reset": "/reinitialisation"}


def emit(
    session: AsyncSession,
    event_type: str,
    *,
    account: Account | None = None,
    family_id: str | None = None,
    **data: Any,
) -> dict[str, Any]:
    """Write an event in the caller's transaction, with the account's ids and no secret."""
    if account is not None:
        # The language too: the notifications service writes the account's e-mails in it;
        # and the kind, so that a staff member's e-mail speaks of the agents' space.
        data = {
            "account_id": account.id,
            "family_ids": family_ids(account),
            "language": account.language,
            "kind": account.kind,
            **data,
        }
        if family_id is None and account.memberships:
            family_id = family_ids(account)[0]
    return record_event(
        session,
        OutboxMessage,
        source=SOURCE,
        event_type=event_type,
        data=data,
        family_id=family_id,
    )


def family_ids(account: Account) -> list[str]:
    """The account's families, oldest membership first."""
    return [m.family_id for m in sorted(account.memberships, key=lambda m: m.created_at)]


def mask_email(email: str) -> str:
    """`j***@example.org`: enough for the owner to recognise, not enough to harvest."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def account_read(account: Account) -> AccountRead:
    """The API view of an account."""
    return AccountRead(
        id=account.id,
        email=account.email,
        kind=account.kind,
        state=account.state,
        staff_roles=sorted(account.staff_roles or []),
        memberships=[
            MembershipRead(family_id=m.family_id, rights=sorted(m.rights))
            for m in sorted(account.memberships, key=lambda m: m.created_at)
        ],
        mfa_enabled=account.totp_enabled_at is not None,
        language=account.language,
        created_at=account.created_at,
        last_login_at=account.last_login_at,
    )


async def get_account(session: AsyncSession, account_id: str, *, lock: bool = False) -> Account:
    """The account with this id, or `AccountNotFound`."""
    statement = select(Account).where(Account.id == account_id)
    if lock:
        statement = statement.with_for_update()
    account = await session.scalar(statement)
    if account is None:
        raise AccountNotFound("No such account.")
    return account


async def find_by_email(session: AsyncSession, email: str) -> Account | None:
    """The account with this (lower-cased) e-mail, if any."""
    return await session.scalar(select(Account).where(Account.email == email.lower()))


# ---- one-time links ---------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedLink:
    """A token just created, its link and expiry (the token itself is never stored)."""

    token: str
    link: str
    expires_at: datetime


def link_for(settings: AuthSettings, purpose: str, token: str) -> str:
    """The page address for a token, from the configured public URL (never the Host header)."""
    return f"{settings.base_url}{LINK_PATHS[purpose]}?token={token}"


async def issue_link(
    session: AsyncSession, settings: AuthSettings, *, account: Account, purpose: str
) -> IssuedLink:
    """Create a single-use token, superseding the account's earlier ones for that purpose."""
    now = utcnow()
    await session.execute(
        update(OneTimeToken)
        .where(
            OneTimeToken.account_id == account.id,
            OneTimeToken.purpose == purpose,
            OneTimeToken.used_at.is_(None),
        )
        .values(used_at=now)
    )
    lifetime = {
        "invitation": timedelta(days=settings.invitation_ttl_days),
        "reset": timedelta(seconds=settings.reset_ttl_seconds),
        "enrolment": timedelta(seconds=settings.enrolment_ttl_seconds),
    }[purpose]
    token = new_token()
    row = OneTimeToken(
        id=str(uuid.uuid4()),
        account_id=account.id,
        purpose=purpose,
        token_hash=digest(token),
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(row)
    await session.flush()
    link = link_for(settings, purpose, token) if purpose in LINK_PATHS else ""
    return IssuedLink(token, link, row.expires_at)


async def inspect_link(session: AsyncSession, token: str, purpose: str) -> OneTimeToken:
    """The token's row when it can still be used; otherwise why not, as a stable problem."""
    if not well_formed(token):
        raise TokenInvalid("This link is not valid.")
    row = await session.scalar(
        select(OneTimeToken).where(
            OneTimeToken.token_hash == digest(token), OneTimeToken.purpose == purpose
        )
    )
    if row is None:
        raise TokenInvalid("This link is not valid.")
    if row.used_at is not None:
        raise TokenUsed("This link was already used.")
    if row.expires_at <= utcnow():
        raise TokenExpired("This link has expired; ask for a new one.")
    return row


async def consume_link(session: AsyncSession, token: str, purpose: str) -> str:
    """Use the token once, atomically; returns its account id.

    One conditional UPDATE decides: of any number of concurrent uses, exactly one
    sees a row come back; the others get the precise reason it cannot be used.
    """
    if not well_formed(token):
        raise TokenInvalid("This link is not valid.")
    now = utcnow()
    account_id = await session.scalar(
        update(OneTimeToken)
        .where(
            OneTimeToken.token_hash == digest(token),
            OneTimeToken.purpose == purpose,
            OneTimeToken.used_at.is_(None),
            OneTimeToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(OneTimeToken.account_id)
    )
    if account_id is None:
        await inspect_link(session, token, purpose)
        raise TokenUsed("This link was already used.")  # used between the two statements
    return str(account_id)


# ---- invitations -----------------------------------------------------------------------


# What a municipal system hears for an e-mail it may not invite to a family, whether its
# account is already a member of that family or is a staff member's: a staff account is none
# of a system's business (as on `GET /accounts/{id}`), so it must not tell the two apart.
NOT_INVITABLE = "This e-mail cannot be invited to this family: an account with it already exists."


@dataclass(frozen=True)
class Invitation:
    """The result of inviting: the account, and the link when one was sent."""

    account: Account
    link: IssuedLink | None
    created: bool


async def invite_family(
    auth: AuthContext,
    session: AsyncSession,
    *,
    email: str,
    family_id: str,
    rights: Sequence[str],
    actor: str,
    discreet: bool = False,
) -> Invitation:
    """Create an invited account for a family, or add the family to an existing login.

    `discreet`: the caller (a municipal system) must not learn that an e-mail is a staff
    member's, so both e-mails it may not invite get one refusal (`NOT_INVITABLE`)."""
    now = utcnow()
    account = await find_by_email(session, email)
    if account is not None:
        # Both refusals come after the same two reads (the account, its memberships loaded
        # with it): a staff e-mail costs no more and no less than a member's.
        if account.kind != "family":
            raise AccountExists(
                NOT_INVITABLE if discreet else "This e-mail belongs to a staff account."
            )
        if any(m.family_id == family_id for m in account.memberships):
            raise AccountExists(
                NOT_INVITABLE if discreet else "This account is already a member of this family."
            )
        account.memberships.append(
            Membership(family_id=family_id, rights=sorted(set(rights)), created_at=now)
        )
        account.updated_at = now
        await session.flush()
        emit(
            session,
            events.ACCOUNT_MEMBERSHIP_ADDED,
            account=account,
            family_id=family_id,
            actor=actor,
        )
        # An invited account keeps its pending link: it now opens both families.
        return Invitation(account, None, created=False)
    account = Account(
        id=str(uuid.uuid4()),
        email=email.lower(),
        kind="family",
        state="invited",
        staff_roles=[],
        created_at=now,
        updated_at=now,
        memberships=[Membership(family_id=family_id, rights=sorted(set(rights)), created_at=now)],
    )
    session.add(account)
    await session.flush()
    link = await issue_link(session, auth.settings, account=account, purpose="invitation")
    _emit_invited(session, account, link, actor=actor, family_id=family_id, resent=False)
    return Invitation(account, link, created=True)


async def invite_staff(
    auth: AuthContext, session: AsyncSession, *, email: str, roles: Sequence[str], actor: str
) -> Invitation:
    """Create an invited staff account with its roles."""
    if await find_by_email(session, email) is not None:
        raise AccountExists("An account already has this e-mail.")
    now = utcnow()
    account = Account(
        id=str(uuid.uuid4()),
        email=email.lower(),
        kind="staff",
        state="invited",
        staff_roles=sorted(set(roles)),
        created_at=now,
        updated_at=now,
        memberships=[],
    )
    session.add(account)
    await session.flush()
    link = await issue_link(session, auth.settings, account=account, purpose="invitation")
    _emit_invited(session, account, link, actor=actor, family_id=None, resent=False)
    return Invitation(account, link, created=True)


def _emit_invited(
    session: AsyncSession,
    account: Account,
    link: IssuedLink,
    *,
    actor: str,
    family_id: str | None,
    resent: bool,
) -> None:
    # The link is the one secret an event carries: the e-mail cannot be sent without it.
    emit(
        session,
        events.ACCOUNT_INVITED,
        account=account,
        family_id=family_id,
        email=account.email,
        kind=account.kind,
        link=link.link,
        expires_at=link.expires_at.isoformat(),
        resent=resent,
        actor=actor,
    )


async def resend_invitation(
    auth: AuthContext, session: AsyncSession, *, account_id: str, actor: str
) -> Invitation:
    """A new invitation link (the old ones stop working) for an account still invited."""
    account = await get_account(session, account_id, lock=True)
    if account.state != "invited":
        raise Conflict("This account is not waiting for its first sign-in.")
    link = await issue_link(session, auth.settings, account=account, purpose="invitation")
    _emit_invited(session, account, link, actor=actor, family_id=None, resent=True)
    return Invitation(account, link, created=False)


async def renew_invitation_from_link(auth: AuthContext, *, token: str) -> None:
    """An expired (or used) invitation link asks for a new one; silently nothing otherwise."""
    if not well_formed(token):
        return
    async with auth.database.transaction() as session:
        row = await session.scalar(
            select(OneTimeToken).where(
                OneTimeToken.token_hash == digest(token), OneTimeToken.purpose == "invitation"
            )
        )
        if row is None:
            return
        account = await get_account(session, row.account_id, lock=True)
        if account.state != "invited":
            return
        # Whoever holds an old link must not be able to flood the address with e-mails.
        if not await auth.throttle.allow(mail_key(account.id, "invitation"), auth.mail_window):
            return
        link = await issue_link(session, auth.settings, account=account, purpose="invitation")
        _emit_invited(session, account, link, actor="self", family_id=None, resent=True)


# ---- staff operations on accounts -------------------------------------------------------


async def list_accounts(session: AsyncSession, query: AccountQuery) -> tuple[list[Account], int]:
    """Accounts matching the filters, newest first, and how many match in all."""
    statement = select(Account)
    if query.q:
        pattern = "%" + query.q.lower().replace("\\", "").replace("%", "").replace("_", "") + "%"
        statement = statement.where(Account.email.like(pattern))
    if query.state:
        statement = statement.where(Account.state == query.state)
    if query.kind:
        statement = statement.where(Account.kind == query.kind)
    if query.family_id:
        statement = statement.where(
            Account.id.in_(
                select(Membership.account_id).where(Membership.family_id == query.family_id)
            )
        )
    total = await session.scalar(select(func.count()).select_from(statement.subquery()))
    rows = await session.scalars(
        statement.order_by(Account.created_at.desc(), Account.id)
        .limit(query.limit)
        .offset(query.offset)
    )
    return list(rows.all()), int(total or 0)


def check_may_manage(actor_roles: frozenset[str], actor_id: str, account: Account) -> None:
    """Staff accounts are managed by administrators only, and nobody disables themselves."""
    if account.kind == "staff" and "administrator" not in actor_roles:
        raise Forbidden("Only an administrator manages staff accounts.")
    if account.id == actor_id:
        raise Forbidden("You cannot do this to your own account.")


async def revoke_sessions(
    session: AsyncSession, account_id: str, *, keep_token_hash: str | None = None
) -> int:
    """Revoke the account's live sessions (except one); returns how many.

    Each is also noted for the gateway (`revoked_sessions`): its cached JWT must not outlive
    the revocation by the cache's minute."""
    statement = (
        update(Session)
        .where(Session.account_id == account_id, Session.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .returning(Session.token_hash)
    )
    if keep_token_hash is not None:
        statement = statement.where(Session.token_hash != keep_token_hash)
    revoked = list((await session.execute(statement)).scalars())
    revoked_sessions.note(revoked)
    return len(revoked)


async def set_disabled(
    session: AsyncSession,
    *,
    account_id: str,
    disabled: bool,
    actor_id: str,
    actor_roles: frozenset[str],
) -> Account:
    """Disable (revoking every session) or re-enable an account."""
    account = await get_account(session, account_id, lock=True)
    check_may_manage(actor_roles, actor_id, account)
    now = utcnow()
    if disabled and account.state != "disabled":
        account.state = "disabled"
        await revoke_sessions(session, account.id)
        emit(session, events.ACCOUNT_DISABLED, account=account, actor=actor_id)
    elif not disabled and account.state == "disabled":
        # An account disabled before its first sign-in goes back to waiting for it.
        account.state = "active" if account.password_hash else "invited"
        emit(session, events.ACCOUNT_ENABLED, account=account, actor=actor_id)
    account.updated_at = now
    return account


async def set_language(session: AsyncSession, *, account_id: str, language: str) -> Account:
    """The language of the account's e-mails; `account.language_changed` when it changes."""
    account = await get_account(session, account_id, lock=True)
    if account.language != language:
        account.language = language
        account.updated_at = utcnow()
        emit(session, events.LANGUAGE_CHANGED, account=account)
    return account


async def unlock(
    auth: AuthContext,
    session: AsyncSession,
    *,
    account_id: str,
    actor: str,
    actor_roles: frozenset[str],
) -> Account:
    """Clear the account's guessing throttle (staff help for a parent who tried too often)."""
    account = await get_account(session, account_id)
    # Lifting a staff account's throttle lets guessing of its password go on: like every
    # other act on a staff account, an administrator's.
    if account.kind == "staff" and "administrator" not in actor_roles:
        raise Forbidden("Only an administrator manages staff accounts.")
    await auth.throttle.clear(account_key(account.email))
    emit(session, events.ACCOUNT_UNLOCKED, account=account, actor=actor)
    return account


async def set_staff_roles(
    session: AsyncSession, *, account_id: str, roles: Sequence[str], actor_id: str
) -> Account:
    """Replace a staff member's roles (administrators only; not one's own)."""
    account = await get_account(session, account_id, lock=True)
    if account.kind != "staff":
        raise Conflict("Only staff accounts have staff roles.")
    if account.id == actor_id:
        raise Forbidden("You cannot change your own roles.")
    account.staff_roles = sorted(set(roles))
    account.updated_at = utcnow()
    await revoke_sessions(session, account.id)  # new roles take effect at the next sign-in
    return account


async def remove_membership(
    session: AsyncSession, *, account_id: str, family_id: str, actor: str
) -> Account:
    """Remove a family from a login; its sessions end so tokens stop carrying the family."""
    account = await get_account(session, account_id, lock=True)
    membership = next((m for m in account.memberships if m.family_id == family_id), None)
    if membership is None:
        raise AccountNotFound("No such membership.")
    account.memberships.remove(membership)
    account.updated_at = utcnow()
    await revoke_sessions(session, account.id)
    emit(
        session,
        events.ACCOUNT_MEMBERSHIP_REMOVED,
        account=account,
        family_id=family_id,
        actor=actor,
        removed_family_id=family_id,
    )
    return account
