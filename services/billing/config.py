"""Settings of the billing service (environment variables prefixed `BILLING_`)."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from services.kit.settings import BaseServiceSettings


class BillingSettings(BaseServiceSettings):
    """The kit's settings; this service has none of its own yet."""

    model_config = SettingsConfigDict(env_prefix="BILLING_", extra="ignore", frozen=True)
    service_name: ClassVar[str] = "billing"
    default_port: ClassVar[int] = 8104
