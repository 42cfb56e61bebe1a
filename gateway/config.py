"""Settings of the gateway, read once from the environment (prefix `GATEWAY_` for its own)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from services.kit.settings import BaseServiceSettings

# The routable services, in the order of their default ports (8101…8106).
SERVICE_NAMES = ("auth", "families", "bookings", "billing", "documents", "notifications")
DEFAULT_RATE_LIMITS = Path(__file__).parent / "rate_limits.yaml"
LOOPBACK_NAMES = ("127.0.0.1", "localhost")
DEV_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 (public on purpose; refused in prod)


def _service_url(name: str, port: int) -> object:
    return Field(f"http://127.0.0.1:{port}", validation_alias=f"{name.upper()}_SERVICE_URL")


class GatewaySettings(BaseServiceSettings):
    """Where the services are, how long to wait for them, and how strict to be with callers."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", frozen=True)
    service_name: ClassVar[str] = "gateway"
    default_port: ClassVar[int] = 8080
    # No database of its own; in prod Redis, the public address and the secret must be given.
    required_in_prod: ClassVar[tuple[str, ...]] = ("redis_url", "public_base_url", "secret_key")

    auth_service_url: str = _service_url("auth", 8101)  # type: ignore[assignment]
    families_service_url: str = _service_url("families", 8102)  # type: ignore[assignment]
    bookings_service_url: str = _service_url("bookings", 8103)  # type: ignore[assignment]
    billing_service_url: str = _service_url("billing", 8104)  # type: ignore[assignment]
    documents_service_url: str = _service_url("documents", 8105)  # type: ignore[assignment]
    notifications_service_url: str = _service_url(  # type: ignore[assignment]
        "notifications", 8106
    )

    public_base_url: str = Field("http://127.0.0.1:8080", validation_alias="PUBLIC_BASE_URL")
    # Signs CSRF tokens; every replica must share it. The dev default is public on purpose.
    secret_key: str = Field(DEV_SECRET_KEY, min_length=16)
    org_name: str = "Mairie de Hasparren"

    upstream_deadline_seconds: float = Field(5.0, gt=0, le=60)
    # Replaces the deadline above for a body sent to an upload path: a phone on a poor
    # network may need a minute to send a few MB, which says nothing about the service.
    upload_deadline_seconds: float = Field(120.0, gt=0, le=900)
    upstream_connect_timeout_seconds: float = Field(1.0, gt=0, le=10)
    safe_retries: int = Field(2, ge=0, le=5)
    dashboard_deadline_seconds: float = Field(1.5, gt=0, le=10)
    breaker_failure_threshold: int = Field(5, ge=1)
    breaker_reset_seconds: float = Field(10.0, gt=0)

    rate_limits_file: Path = DEFAULT_RATE_LIMITS
    max_json_body_bytes: int = Field(64 * 1024, ge=1024)
    max_upload_body_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    # Paths whose bodies may be large: a regular expression searched in the path.
    upload_path_pattern: str = r"(^|/)(upload|uploads|files)(/|$)"
    # How many reverse proxies in front of us append to X-Forwarded-For (0: trust none).
    trusted_proxy_hops: int = Field(0, ge=0, le=5)
    jwt_cache_max_seconds: int = Field(60, ge=1, le=3600)
    # Prefix of the gateway's Redis keys (rate-limit counters, cached JWTs).
    redis_key_prefix: str = "gw"

    @model_validator(mode="after")
    def _public_url_is_https_in_prod(self) -> GatewaySettings:
        if self.profile == "prod" and not self.public_base_url.startswith("https://"):
            raise ValueError("PUBLIC_BASE_URL must be an https:// address in prod")
        if self.profile == "prod" and self.secret_key == DEV_SECRET_KEY:
            raise ValueError("GATEWAY_SECRET_KEY must be set to a secret in prod")
        if not self.jwks_json and "jwks_url" not in self.model_fields_set:
            # The kit's default goes through the gateway itself; we ask auth directly.
            url = f"{self.auth_service_url.rstrip('/')}/.well-known/jwks.json"
            object.__setattr__(self, "jwks_url", url)
        return self

    def service_urls(self) -> dict[str, str]:
        """The base URL of each routable service, by name (read on every proxied call)."""
        return self._service_urls

    @cached_property
    def _service_urls(self) -> dict[str, str]:
        return {name: getattr(self, f"{name}_service_url").rstrip("/") for name in SERVICE_NAMES}

    @property
    def public_origin(self) -> str:
        """scheme://host[:port] of the public address, as browsers send it in `Origin`."""
        parts = urlsplit(self.public_base_url)
        return f"{parts.scheme}://{parts.netloc}"

    @cached_property
    def allowed_origins(self) -> frozenset[str]:
        """Origins our own pages send: the public one; outside prod, localhost ≡ 127.0.0.1.

        (Someone running `make run` may type either in the browser; refusing their sign-in
        as cross-site would only teach them to distrust the check.)
        """
        origins = {self.public_origin}
        parts = urlsplit(self.public_base_url)
        if self.profile != "prod" and parts.hostname in LOOPBACK_NAMES:
            port = f":{parts.port}" if parts.port else ""
            origins |= {f"{parts.scheme}://{name}{port}" for name in LOOPBACK_NAMES}
        return frozenset(origins)

    @property
    def secure_cookies(self) -> bool:
        """Cookies are `Secure` (and `__Host-` prefixed) when the portal is served over https."""
        return self.public_base_url.startswith("https://")

    @property
    def session_cookie_name(self) -> str:
        """`__Host-` needs `Secure`, which browsers refuse to store over plain http (dev, tests)."""
        return "__Host-portail_session" if self.secure_cookies else "portail_session"

    @property
    def hsts(self) -> bool:
        """HSTS only where https is real: sending it from a dev http host does nothing useful."""
        return self.profile == "prod" or self.secure_cookies
