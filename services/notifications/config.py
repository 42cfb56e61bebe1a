"""Settings of the notifications service (environment variables prefixed `NOTIFICATIONS_`).

SMTP, the public address and the structure's identity use shared, unprefixed names
(`SMTP_HOST`, `PUBLIC_BASE_URL`, …): the dev profile sets them once for every process.
"""

from typing import ClassVar

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from services.kit.settings import DEV_SMTP_PORT, BaseServiceSettings

DEV_CAPTCHA_SECRET = "dev-captcha-secret-change-me-in-prod"  # noqa: S105 (dev profile only)


class NotificationsSettings(BaseServiceSettings):
    """The kit's settings, plus SMTP, e-mail retries, the contact form and its captcha."""

    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", extra="ignore", frozen=True)
    service_name: ClassVar[str] = "notifications"
    default_port: ClassVar[int] = 8106
    required_in_prod: ClassVar[tuple[str, ...]] = (
        *BaseServiceSettings.required_in_prod,
        "smtp_host",
        "smtp_from",
        "public_base_url",
        "captcha_secret",
    )

    # Must outlive any re-delivery: producers re-publish until acknowledged, and an
    # acknowledgement lives 7 days in Redis (services.kit.outbox.ACK_TTL_SECONDS).
    processed_events_retention_days: int = Field(30, ge=8)

    # SMTP (dev: the embedded catcher of `make run`).
    smtp_host: str = Field("127.0.0.1", validation_alias="SMTP_HOST")
    smtp_port: int = Field(DEV_SMTP_PORT, ge=1, le=65535, validation_alias="SMTP_PORT")
    smtp_username: str = Field("", validation_alias="SMTP_USERNAME")
    smtp_password: str = Field("", validation_alias="SMTP_PASSWORD")
    smtp_starttls: bool = Field(False, validation_alias="SMTP_STARTTLS")
    smtp_tls: bool = Field(False, validation_alias="SMTP_TLS")
    smtp_from: str = Field(
        "Mairie de Hasparren <ne-pas-repondre@portail-famille.local>",
        validation_alias="SMTP_FROM",
    )
    smtp_timeout_seconds: float = Field(10.0, gt=0, le=120, validation_alias="SMTP_TIMEOUT")

    # Links in e-mails are built from this, never from a request's Host.
    public_base_url: str = Field(
        "http://127.0.0.1:8080", validation_alias="PUBLIC_BASE_URL", pattern=r"^https?://[^\s/]+"
    )
    org_name: str = Field("Mairie de Hasparren", validation_alias="ORG_NAME")
    org_address: str = Field("Place de la Mairie, 64240 Hasparren", validation_alias="ORG_ADDRESS")
    # An absolute URL of the logo shown in HTML e-mails; none: the name alone.
    org_logo_url: str = Field("", validation_alias="ORG_LOGO_URL")

    # E-mails: the relay loop of this service re-enqueues what is still pending.
    # Events of a batch handled at once by a worker process, each lane with its own database
    # and SMTP connections; one family's (or account's) events stay in order in one lane.
    event_lanes: int = Field(4, ge=1, le=32)
    email_relay_enabled: bool = True
    email_relay_interval_seconds: float = Field(1.0, gt=0, le=60)
    email_requeue_after_seconds: float = Field(30.0, gt=0)
    email_retry_base_seconds: float = Field(5.0, gt=0)
    email_retry_max_seconds: float = Field(900.0, gt=0, le=86400)
    # 4xx answers in a row before an e-mail is given up (an unreachable server never is).
    email_max_temporary_failures: int = Field(8, ge=1, le=100)
    # The staff digest of pending requests: sent to these addresses (comma-separated).
    digest_recipients: str = ""

    # The contact form.
    captcha_secret: str = Field(DEV_CAPTCHA_SECRET, min_length=16)
    captcha_max_number: int = Field(100_000, ge=1000, le=10_000_000)
    captcha_ttl_seconds: int = Field(600, ge=60, le=3600)
    hcaptcha_sitekey: str = ""
    hcaptcha_secret: str = ""
    hcaptcha_verify_url: str = "https://api.hcaptcha.com/siteverify"
    contact_per_account_per_hour: int = Field(5, ge=1)
    contact_per_ip_per_hour: int = Field(10, ge=1)
    contact_subject_max: int = Field(150, ge=10, le=500)
    contact_body_max: int = Field(5000, ge=100, le=50_000)
    # The staff e-mail names the writing family: its name is read from the families service
    # (through the gateway, as the writer) at most this long; past it, the writer's address.
    # Keep it well under the gateway's deadline, which bounds the whole contact request.
    family_names_path: str = "/api/families/me/families"
    family_name_timeout_seconds: float = Field(2.0, gt=0, le=30)

    @model_validator(mode="after")
    def _check_prod_captcha(self) -> "NotificationsSettings":
        if self.profile == "prod" and self.captcha_secret == DEV_CAPTCHA_SECRET:
            raise ValueError("NOTIFICATIONS_CAPTCHA_SECRET must not be the dev value in prod")
        return self

    @property
    def hcaptcha_enabled(self) -> bool:
        """hCaptcha replaces the self-hosted proof of work when both keys are set."""
        return bool(self.hcaptcha_sitekey and self.hcaptcha_secret)

    @property
    def mail_domain(self) -> str:
        """The domain of `Message-ID`s: the sender's."""
        address = self.smtp_from.rsplit("<", 1)[-1].rstrip(">").strip()
        return address.rpartition("@")[2] or "portail-famille.local"
