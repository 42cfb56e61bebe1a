"""Settings of the auth service (environment variables prefixed `AUTH_`)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from services.kit.settings import BaseServiceSettings

# OWASP's Argon2id floor is a set of equivalent (memory, time) pairs, from m=47 MiB t=1 to
# m=7 MiB t=5; their product never drops below 7 MiB x 5 passes.
ARGON2_MIN_MEMORY_KIB = 7168
ARGON2_MIN_WORK = 7168 * 5


class AuthSettings(BaseServiceSettings):
    """Accounts, passwords, sessions, tokens: every duration and limit is configurable."""

    model_config = SettingsConfigDict(env_prefix="AUTH_", extra="ignore", frozen=True)
    service_name: ClassVar[str] = "auth"
    default_port: ClassVar[int] = 8101
    required_in_prod: ClassVar[tuple[str, ...]] = (
        *BaseServiceSettings.required_in_prod,
        "key_encryption_key",
        "public_base_url",
    )

    # Encrypts the signing keys (and TOTP secrets) at rest. Dev: generated under var/auth/.
    key_encryption_key: str = Field("", max_length=512)
    # Links in e-mails are built from this, never from the request's Host header.
    public_base_url: str = Field(
        "http://127.0.0.1:8080", validation_alias="PUBLIC_BASE_URL", pattern=r"^https?://[^\s/]+"
    )

    # Argon2id, default: OWASP's m=19 MiB, t=2, p=1 (see docs/auth.md for the measured cost).
    argon2_memory_kib: int = Field(19456, ge=ARGON2_MIN_MEMORY_KIB, le=1024 * 1024)
    argon2_time_cost: int = Field(2, ge=1, le=20)
    argon2_parallelism: int = Field(1, ge=1, le=8)

    token_ttl_seconds: int = Field(300, ge=30, le=3600)
    # A new key is published this long before it signs, so every verifier knows it first.
    key_activation_delay_seconds: float = Field(60.0, ge=0, le=86400)
    session_idle_seconds: int = Field(1800, ge=60)
    session_absolute_seconds: int = Field(12 * 3600, ge=300)
    invitation_ttl_days: int = Field(7, ge=1, le=60)
    reset_ttl_seconds: int = Field(3600, ge=300, le=24 * 3600)
    enrolment_ttl_seconds: int = Field(900, ge=60, le=3600)

    # Online guessing: failed checks per account, all checks per client IP (soft, sliding windows).
    account_failures_limit: int = Field(50, ge=1, le=100)
    account_failures_window_seconds: int = Field(3600, ge=60)
    ip_attempts_limit: int = Field(30, ge=1)
    ip_attempts_window_seconds: int = Field(600, ge=10)
    reset_requests_per_email_per_hour: int = Field(3, ge=1, le=20)
    # The gateway appends the client address to X-Forwarded-For; only its last hop is trusted.
    trust_forwarded_for: bool = True

    @model_validator(mode="after")
    def _check_argon2_floor(self) -> AuthSettings:
        if self.argon2_memory_kib * self.argon2_time_cost < ARGON2_MIN_WORK:
            raise ValueError(
                "AUTH_ARGON2_MEMORY_KIB x AUTH_ARGON2_TIME_COST is below OWASP's floor "
                f"({ARGON2_MIN_WORK} KiB-passes)"
            )
        if self.key_encryption_key and len(self.key_encryption_key) < 32:
            raise ValueError("AUTH_KEY_ENCRYPTION_KEY must be at least 32 characters")
        if self.session_idle_seconds > self.session_absolute_seconds:
            raise ValueError("AUTH_SESSION_IDLE_SECONDS exceeds AUTH_SESSION_ABSOLUTE_SECONDS")
        return self

    @property
    def base_url(self) -> str:
        """The public base URL without a trailing slash."""
        return self.public_base_url.rstrip("/")
