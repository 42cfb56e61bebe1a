"""The documents settings: dev defaults, and prod refusing to start without its S3."""

from __future__ import annotations

import pytest

from services.documents.config import DocumentsSettings
from services.kit.settings import DEV_S3_ENDPOINT, SettingsError, load_settings


def test_dev_defaults_point_at_the_local_s3(monkeypatch) -> None:
    for name in ("S3_ENDPOINT_URL", "S3_BUCKET", "CLAMD_HOST", "PORTAIL_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(DocumentsSettings)
    assert settings.s3_endpoint_url == DEV_S3_ENDPOINT
    assert settings.s3_bucket == "portail-documents"
    assert settings.antivirus_enabled is False
    assert settings.max_upload_bytes == 10 * 1024 * 1024


def test_prod_names_every_missing_storage_variable(monkeypatch) -> None:
    for name in ("S3_ENDPOINT_URL", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "S3_BUCKET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORTAIL_PROFILE", "prod")
    monkeypatch.setenv("DOCUMENTS_DATABASE_URL", "postgresql+asyncpg://db/documents")
    monkeypatch.setenv("REDIS_URL", "redis://redis:6379/0")
    monkeypatch.setenv("JWKS_URL", "http://auth/.well-known/jwks.json")

    with pytest.raises(SettingsError) as refused:
        load_settings(DocumentsSettings)

    message = str(refused.value)
    for name in ("S3_ENDPOINT_URL", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "S3_BUCKET"):
        assert name in message


def test_clamd_is_used_when_configured(monkeypatch) -> None:
    monkeypatch.setenv("CLAMD_HOST", "clamav")
    monkeypatch.setenv("CLAMD_PORT", "3310")
    assert load_settings(DocumentsSettings).antivirus_enabled is True
