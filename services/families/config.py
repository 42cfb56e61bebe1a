"""Settings of the families service (environment variables prefixed `FAMILIES_`)."""

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.kit.settings import BaseServiceSettings


class FamiliesSettings(BaseServiceSettings):
    """The kit's settings, and how long creations' idempotency keys are kept."""

    model_config = SettingsConfigDict(env_prefix="FAMILIES_", extra="ignore", frozen=True)
    service_name: ClassVar[str] = "families"
    default_port: ClassVar[int] = 8102

    # A client retries within minutes of a timeout; a week covers a retry queue stuck over a
    # weekend. Past it the nightly purge (`tasks.py`) deletes the key: a retry creates anew.
    idempotency_keys_retention_days: int = Field(7, ge=1)
