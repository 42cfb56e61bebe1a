"""Settings of the documents service (environment variables prefixed `DOCUMENTS_`).

Storage and antivirus use shared names without the prefix (`S3_ENDPOINT_URL`, `CLAMD_HOST`…):
they describe the installation's S3 and clamd, which other processes (the worker's purge)
read too.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from services.kit.settings import DEV_S3_ENDPOINT, BaseServiceSettings

MIB = 1024 * 1024


class DocumentsSettings(BaseServiceSettings):
    """The kit's settings plus S3, clamd, upload limits and retention."""

    model_config = SettingsConfigDict(env_prefix="DOCUMENTS_", extra="ignore", frozen=True)
    service_name: ClassVar[str] = "documents"
    default_port: ClassVar[int] = 8105
    required_in_prod: ClassVar[tuple[str, ...]] = (
        *BaseServiceSettings.required_in_prod,
        "s3_endpoint_url",
        "s3_access_key_id",
        "s3_secret_access_key",
        "s3_bucket",
    )

    s3_endpoint_url: str = Field(DEV_S3_ENDPOINT, validation_alias="S3_ENDPOINT_URL")
    s3_access_key_id: str = Field("portail-dev", validation_alias="S3_ACCESS_KEY_ID")
    s3_secret_access_key: str = Field(
        "portail-dev-secret", validation_alias="S3_SECRET_ACCESS_KEY", repr=False
    )
    s3_bucket: str = Field("portail-documents", validation_alias="S3_BUCKET")
    s3_region: str = Field("eu-west-3", validation_alias="S3_REGION")
    # dev and tests create the bucket (private, encrypted by default); prod expects it.
    s3_create_bucket: bool = Field(True, validation_alias="S3_CREATE_BUCKET")
    s3_timeout_seconds: float = Field(5.0, gt=0, le=60, validation_alias="S3_TIMEOUT_SECONDS")

    clamd_host: str = Field("", validation_alias="CLAMD_HOST")
    clamd_port: int = Field(3310, ge=1, le=65535, validation_alias="CLAMD_PORT")
    clamd_timeout_seconds: float = Field(10.0, gt=0, le=120, validation_alias="CLAMD_TIMEOUT")
    # `required`: prod refuses to start without CLAMD_HOST (an upload nobody scanned reaches
    # staff's screens). `off`: the operator knowingly runs without one; said at every start.
    # It only allows the absence: a clamd set in CLAMD_HOST is used either way.
    antivirus: Literal["required", "off"] = "required"

    # The sum of the files of one upload; the gateway's upload limit should be a little above.
    max_upload_bytes: int = Field(10 * MIB, ge=1024, le=200 * MIB)
    max_files_per_upload: int = Field(4, ge=1, le=10)
    # Bytes of uploads one replica holds at once (files are checked in memory, about three
    # times their size at the peak); beyond it an upload waits `upload_wait_seconds`, then 429.
    upload_memory_budget_bytes: int = Field(192 * MIB, ge=64 * 1024)
    upload_wait_seconds: float = Field(3.0, ge=0, le=30)
    # Pixels (width × height, from the header) above which an image is refused before it is
    # decoded: 50 Mpx lets in 48-50 Mpx phone photos. Pillow itself stops at 179 Mpx.
    max_image_pixels: int = Field(50_000_000, ge=1_000_000, le=150_000_000)
    # Where the members of a family are read (the families service, through the gateway).
    members_path: str = "/api/families/families/{family_id}/persons"

    expiring_soon_days: int = Field(30, ge=0, le=365)
    # Retention (CNIL NS-058: no longer than needed): refused files, files of expired
    # documents, files replaced by a newer accepted one.
    refused_retention_days: int = Field(90, ge=0)
    expired_retention_days: int = Field(365, ge=0)
    superseded_retention_days: int = Field(30, ge=0)
    # An object older than this with no row is the trace of a crash between S3 and commit.
    orphan_grace_seconds: int = Field(3600, ge=0)

    @model_validator(mode="after")
    def _require_an_antivirus_in_prod(self) -> DocumentsSettings:
        if self.profile == "prod" and not self.clamd_host and self.antivirus != "off":
            raise ValueError(
                "CLAMD_HOST is required in prod: uploads must be scanned before staff open"
                " them (or set DOCUMENTS_ANTIVIRUS=off to run without an antivirus, knowingly)"
            )
        return self

    @property
    def antivirus_off_in_prod(self) -> bool:
        """Whether the operator chose to run prod without an antivirus (warned at start)."""
        return self.profile == "prod" and not self.antivirus_enabled

    @property
    def antivirus_enabled(self) -> bool:
        """Whether uploads wait for a clamd verdict."""
        return bool(self.clamd_host)
