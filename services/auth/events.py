"""Events this service emits (past tense; ids, never a secret beyond the link an e-mail needs)."""

ACCOUNT_INVITED = "account.invited"
ACCOUNT_ACTIVATED = "account.activated"
ACCOUNT_MEMBERSHIP_ADDED = "account.membership_added"
ACCOUNT_MEMBERSHIP_REMOVED = "account.membership_removed"
ACCOUNT_DISABLED = "account.disabled"
ACCOUNT_ENABLED = "account.enabled"
ACCOUNT_UNLOCKED = "account.unlocked"
LOGIN_SUCCEEDED = "account.login_succeeded"
LOGIN_FAILED = "account.login_failed"
LOGGED_OUT = "account.logged_out"
PASSWORD_CHANGED = "account.password_changed"  # noqa: S105 - an event name
PASSWORD_RESET_REQUESTED = "account.password_reset_requested"  # noqa: S105 - an event name
PASSWORD_RESET_COMPLETED = "account.password_reset_completed"  # noqa: S105 - an event name
MFA_ENABLED = "account.mfa_enabled"
MFA_DISABLED = "account.mfa_disabled"
LANGUAGE_CHANGED = "account.language_changed"
API_CLIENT_CREATED = "api_client.created"
API_CLIENT_REVOKED = "api_client.revoked"
SIGNING_KEY_ROTATED = "signing_key.rotated"
