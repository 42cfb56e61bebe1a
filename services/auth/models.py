"""Tables owned by the auth service. Secrets are never stored in clear: hashes or ciphertexts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from services.kit.columns import UtcDateTime
from services.kit.outbox import OutboxMessageMixin

ACCOUNT_KINDS = ("family", "staff")
ACCOUNT_STATES = ("invited", "active", "disabled")
LANGUAGES = ("fr", "en")
TOKEN_PURPOSES = ("invitation", "reset", "enrolment")


class Base(DeclarativeBase):
    """Declarative base of this service's tables only."""


class Account(Base):
    """A login: a family member (with memberships) or a staff member (with roles)."""

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint("kind IN ('family', 'staff')", name="account_kind"),
        CheckConstraint("state IN ('invited', 'active', 'disabled')", name="account_state"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # Stored lower-cased: one account per address whatever its case.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(10), index=True)
    staff_roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # The TOTP secret, encrypted with the key-encryption key; enabled once confirmed.
    totp_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The last accepted TOTP time step: a code (and any older one) works once.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The language of the account's e-mails: the one its owner last chose on the pages.
    language: Mapped[str] = mapped_column(String(5), default="fr", server_default="fr")

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="account", lazy="selectin", cascade="all, delete-orphan"
    )


class Membership(Base):
    """An account's link to a family (owned by the families service), with its rights."""

    __tablename__ = "memberships"

    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    family_id: Mapped[str] = mapped_column(String(36), primary_key=True, index=True)
    rights: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    account: Mapped[Account] = relationship(back_populates="memberships")


class OneTimeToken(Base):
    """An invitation, reset or MFA-enrolment token: only its SHA-256 is kept; used once."""

    __tablename__ = "one_time_tokens"
    __table_args__ = (
        CheckConstraint(
            "purpose IN ('invitation', 'reset', 'enrolment')", name="one_time_token_purpose"
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Session(Base):
    """A browser session held by the gateway: only the hash of its secret is kept."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    client_ip: Mapped[str | None] = mapped_column(String(45))


class RecoveryCode(Base):
    """A single-use MFA recovery code, hashed."""

    __tablename__ = "recovery_codes"
    __table_args__ = (UniqueConstraint("account_id", "code_hash"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ApiClient(Base):
    """A municipal system: exchanges its secret (hashed here) for short-lived scoped tokens."""

    __tablename__ = "api_clients"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class SigningKey(Base):
    """An Ed25519 key: published from `created_at`, signs from `activates_at`."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    private_key_enc: Mapped[bytes] = mapped_column(LargeBinary)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    # Superseded keys stay published until the tokens they signed have expired (signing.py).
    activates_at: Mapped[datetime] = mapped_column(UtcDateTime())


class OutboxMessage(OutboxMessageMixin, Base):
    """Events waiting to be relayed to the queue."""

    __tablename__ = "outbox_messages"
