"""What the auth API accepts and returns; responses carry these fields and no others."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    RootModel,
    field_validator,
)

Right = Literal["book", "invoices", "edit"]
StaffRole = Literal["agent", "administrator"]
ALL_RIGHTS: tuple[Right, ...] = ("book", "invoices", "edit")
# The scopes an API client may be given: those some operation checks (docs/integration.md).
# Documents take no write and notifications nothing from a municipal system yet: such a
# scope is refused when a client is made, not granted to open nothing.
GRANTED_ACCESS: dict[str, tuple[str, ...]] = {
    "auth": ("read", "write"),
    "families": ("read", "write"),
    "bookings": ("read", "write"),
    "billing": ("read", "write"),
    "documents": ("read",),
    "notifications": (),
}
SERVICE_SCOPES = frozenset(
    f"{service}:{access}" for service, accesses in GRANTED_ACCESS.items() for access in accesses
)
# Well-formed scopes of our services that open nothing: refused with their own reason.
UNOPENED_SCOPES = (
    frozenset(f"{service}:{access}" for service in GRANTED_ACCESS for access in ("read", "write"))
    - SERVICE_SCOPES
)


def scope_refusal(scope: str) -> str | None:
    """Why `scope` cannot be granted to an API client, or None when it can."""
    if scope in SERVICE_SCOPES:
        return None
    if scope in UNOPENED_SCOPES:
        return f"'{scope}' opens no operation: it cannot be granted."
    return f"'{scope}' is no scope of the portal."


_FAMILY_ID = re.compile(r"^[A-Za-z0-9-]{1,36}$")


def _lower_email(value: str) -> str:
    return value.strip().lower()


Email = Annotated[EmailStr, Field(max_length=254), AfterValidator(_lower_email)]
# Long enough for any real password (the rule caps at 256 after normalisation), short
# enough that nobody can make us hash a megabyte.
PasswordInput = Annotated[str, Field(min_length=1, max_length=1024)]
LinkToken = Annotated[str, Field(min_length=1, max_length=128)]
FamilyId = Annotated[str, Field(min_length=1, max_length=36, pattern=_FAMILY_ID.pattern)]


class Strict(BaseModel):
    """Unknown fields are refused, by name."""

    model_config = ConfigDict(extra="forbid")


class SessionCreate(Strict):
    """Sign-in."""

    email: Email
    password: PasswordInput
    totp_code: str | None = Field(None, max_length=32, description="TOTP or recovery code")


class SessionCreated(BaseModel):
    """A new server-side session and a first token."""

    session_token: str = Field(description="opaque secret; send it back as X-Session-Token")
    token: str
    expires_in: int


class TokenRefreshed(BaseModel):
    """A fresh token for a live session."""

    token: str
    expires_in: int


class MembershipBody(Strict):
    """A family membership with its rights."""

    family_id: FamilyId
    rights: list[Right] = Field(default_factory=lambda: list(ALL_RIGHTS), max_length=3)

    @field_validator("rights")
    @classmethod
    def _unique(cls, value: list[Right]) -> list[Right]:
        return sorted(set(value))


class MembershipRead(BaseModel):
    """A membership as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    family_id: str
    rights: list[str]


class AccountRead(BaseModel):
    """An account as staff (or its owner) see it; no hash, no secret."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    email: str
    kind: Literal["family", "staff"]
    state: Literal["invited", "active", "disabled"]
    staff_roles: list[str]
    memberships: list[MembershipRead]
    mfa_enabled: bool
    language: Literal["fr", "en"] = "fr"
    created_at: datetime
    last_login_at: datetime | None
    # Staff views only: failed sign-in checks in the current window, and whether they
    # reached the limit (sign-in answers 429 until the window slides or staff unlock).
    recent_failures: int | None = None
    throttled: bool | None = None


class AccountList(BaseModel):
    """One page of accounts."""

    items: list[AccountRead]
    total: int


class AccountQuery(Strict):
    """Filters of the account list."""

    q: str | None = Field(None, max_length=254)
    state: Literal["invited", "active", "disabled"] | None = None
    kind: Literal["family", "staff"] | None = None
    family_id: FamilyId | None = None
    limit: int = Field(50, ge=1, le=100)
    offset: int = Field(0, ge=0, le=1_000_000)


class InvitationCreate(Strict):
    """Invite a family account (or add a family to an existing login)."""

    email: Email
    family_id: FamilyId
    rights: list[Right] = Field(default_factory=lambda: list(ALL_RIGHTS), max_length=3)


class StaffCreate(Strict):
    """Invite a staff member."""

    email: Email
    roles: list[StaffRole] = Field(min_length=1, max_length=2)


class StaffRolesUpdate(Strict):
    """Replace a staff member's roles."""

    roles: list[StaffRole] = Field(min_length=1, max_length=2)


class InvitationRead(BaseModel):
    """The invited account; the link itself only travels in the e-mail."""

    account: AccountRead
    invitation_expires_at: datetime | None


class LinkCheck(Strict):
    """A token from a link, sent in a body so that it stays out of URLs and logs."""

    token: LinkToken


class LinkChecked(BaseModel):
    """A valid link: whose it is (masked) and until when."""

    email_hint: str
    expires_at: datetime


class InvitationAccept(Strict):
    """First sign-in: the invitation token and the chosen password."""

    token: LinkToken
    password: PasswordInput


class InvitationAccepted(BaseModel):
    """Staff get an enrolment token (MFA first); families get a session at once."""

    account_id: str
    session: SessionCreated | None
    mfa_enrolment_required: bool
    enrolment_token: str | None


class PasswordResetRequest(Strict):
    """Forgotten password."""

    email: Email


class PasswordResetConfirm(Strict):
    """A new password through a reset link."""

    token: LinkToken
    password: PasswordInput


class PasswordChange(Strict):
    """A new password, proven by the current one."""

    current: PasswordInput
    new: PasswordInput


class AccountPreferences(Strict):
    """What the owner of an account may set on it: the language of its e-mails."""

    language: Literal["fr", "en"]


class PasswordRuleCheck(Strict):
    """A candidate password, to show the rule as it is typed (nothing stored)."""

    password: PasswordInput
    email: str = Field("", max_length=254)


class RuleBreakRead(BaseModel):
    """One broken part of the rule."""

    code: str
    message: str


class PasswordRuleResult(BaseModel):
    """Whether the candidate follows the rule, and what it breaks."""

    acceptable: bool
    breaks: list[RuleBreakRead]
    min_length: int
    max_length: int


class Accepted(BaseModel):
    """The same answer whatever happened (no enumeration)."""

    detail: str


class TotpEnrolment(BaseModel):
    """A TOTP secret to scan; enabled once a code is confirmed."""

    secret: str
    otpauth_uri: str


class TotpCode(Strict):
    """A six-digit TOTP code."""

    code: str = Field(min_length=6, max_length=6, pattern=r"^\d{6}$")


class RecoveryCodes(BaseModel):
    """Single-use recovery codes, shown once."""

    recovery_codes: list[str]


class TotpDisable(Strict):
    """Turning TOTP off needs the password."""

    password: PasswordInput


class ApiClientCreate(Strict):
    """A municipal system and the scopes it may ask for."""

    name: str = Field(min_length=1, max_length=120)
    scopes: list[str] = Field(min_length=1, max_length=len(SERVICE_SCOPES))

    @field_validator("scopes")
    @classmethod
    def _known_scopes(cls, value: list[str]) -> list[str]:
        refusals = [why for why in map(scope_refusal, sorted(set(value))) if why]
        if refusals:
            raise ValueError(" ".join(refusals))
        return sorted(set(value))


class ApiClientRead(BaseModel):
    """An API client, without its secret."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    scopes: list[str]
    created_at: datetime
    created_by: str
    revoked_at: datetime | None


class ApiClientList(RootModel[list[ApiClientRead]]):
    """Every API client, newest first."""


class ApiClientCreated(ApiClientRead):
    """The new client and its secret, shown this once."""

    client_secret: str


class TokenRequest(Strict):
    """OAuth 2 client-credentials grant (RFC 6749 §4.4), as a form or JSON."""

    grant_type: str = Field(max_length=64)
    client_id: str | None = Field(None, max_length=64)
    client_secret: str | None = Field(None, max_length=128)
    scope: str | None = Field(None, max_length=1024)


class AccessToken(BaseModel):
    """OAuth 2 token response."""

    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    scope: str


class KeyRotated(BaseModel):
    """A new signing key, published now, signing from `activates_at`."""

    kid: str
    activates_at: datetime
