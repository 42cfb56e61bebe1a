"""Settings of the documents service (environment variables prefixed `DOCUMENTS_`)."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from services.kit.settings import BaseServiceSettings


class DocumentsSettings(BaseServiceSettings):
    """The kit's settings; S3 settings come with the documents issue."""

    model_config = SettingsConfigDict(env_prefix="DOCUMENTS_", extra="ignore", frozen=True)
    service_name: ClassVar[str] = "documents"
    default_port: ClassVar[int] = 8105
