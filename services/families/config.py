"""Settings of the families service (environment variables prefixed `FAMILIES_`)."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from services.kit.settings import BaseServiceSettings


class FamiliesSettings(BaseServiceSettings):
    """The kit's settings; this service has none of its own yet."""

    model_config = SettingsConfigDict(env_prefix="FAMILIES_", extra="ignore", frozen=True)
    service_name: ClassVar[str] = "families"
    default_port: ClassVar[int] = 8102
