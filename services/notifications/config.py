"""Settings of the notifications service (environment variables prefixed `NOTIFICATIONS_`)."""

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.kit.settings import BaseServiceSettings


class NotificationsSettings(BaseServiceSettings):
    """The kit's settings, plus how long the consumer remembers the events it handled."""

    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", extra="ignore", frozen=True)
    service_name: ClassVar[str] = "notifications"
    default_port: ClassVar[int] = 8106

    # Must outlive any re-delivery: producers re-publish until acknowledged, and an
    # acknowledgement lives 7 days in Redis (services.kit.outbox.ACK_TTL_SECONDS).
    processed_events_retention_days: int = Field(30, ge=8)
