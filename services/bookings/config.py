"""Settings of the bookings service (environment variables prefixed `BOOKINGS_`)."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from services.kit.settings import BaseServiceSettings


class BookingsSettings(BaseServiceSettings):
    """The kit's settings; this service has none of its own yet."""

    model_config = SettingsConfigDict(env_prefix="BOOKINGS_", extra="ignore", frozen=True)
    service_name: ClassVar[str] = "bookings"
    default_port: ClassVar[int] = 8103
