"""Problems specific to accounts and sign-in; their `type`s are stable, pages rely on them."""

from services.kit.problems import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    Unauthenticated,
    ValidationFailed,
)


class InvalidCredentials(Unauthenticated):
    """Wrong e-mail or password: one answer for both, so that accounts cannot be enumerated."""

    slug = "invalid-credentials"
    title = "Invalid credentials"


class MfaRequired(Unauthenticated):
    """The password was right; a valid TOTP (or recovery) code is needed as well."""

    slug = "mfa-required"
    title = "Second factor required"


class MfaEnrolmentRequired(Forbidden):
    """Staff must enrol a TOTP authenticator before getting a session."""

    slug = "mfa-enrolment-required"
    title = "Second factor enrolment required"


class SessionExpired(Unauthenticated):
    """The session is unknown, revoked, idle for too long or past its absolute lifetime."""

    slug = "session-expired"
    title = "Session expired"


class TokenInvalid(BadRequest):
    """An invitation or reset token that never existed (or has the wrong shape)."""

    slug = "token-invalid"
    title = "Invalid link"


class TokenExpired(TokenInvalid):
    """The link's time is over; a new one can be asked for."""

    status = 410
    slug = "token-expired"
    title = "Expired link"


class TokenUsed(TokenInvalid):
    """The link was already used."""

    status = 410
    slug = "token-used"
    title = "Link already used"


class WeakPassword(ValidationFailed):
    """The new password breaks the rule (length, blocklist, personal data)."""

    slug = "weak-password"
    title = "Password does not follow the rule"


class AccountNotFound(NotFound):
    """No account with this id."""

    slug = "account-not-found"
    title = "Account not found"


class AccountExists(Conflict):
    """An account already has this e-mail (and, for an invitation, this family)."""

    slug = "account-exists"
    title = "Account already exists"


class InvalidClient(Unauthenticated):
    """Unknown or revoked API client, or wrong secret (OAuth 2 `invalid_client`)."""

    slug = "invalid-client"
    title = "Invalid client"


class WrongPassword(Forbidden):
    """The current password, given to change it, is wrong."""

    slug = "wrong-password"
    title = "Wrong current password"


class UnknownFamily(ValidationFailed):
    """The families service knows no family with this id (a child's, an activity's, nothing)."""

    slug = "family-unknown"
    title = "Famille inconnue"


class FamiliesUnavailable(ServiceUnavailable):
    """The families service could not say whether the family exists; nothing was written."""

    slug = "families-unavailable"
    title = "Service des familles indisponible"


class FamilyNotReadable(Forbidden):
    """The caller may invite but not read families, so the family cannot be checked for it."""

    slug = "family-not-readable"
    title = "Famille non vérifiable"
