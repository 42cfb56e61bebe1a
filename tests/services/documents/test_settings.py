"""The documents settings: dev defaults, and prod refusing to start without its S3 or,
unless the operator says so, without an antivirus."""

from __future__ import annotations

import pytest

from services.documents.config import DocumentsSettings
from services.kit.settings import DEV_S3_ENDPOINT, SettingsError, load_settings


def test_dev_defaults_point_at_the_local_s3(monkeypatch) -> None:
    for name in (
        "S3_ENDPOINT_URL",
        "S3_BUCKET",
        "CLAMD_HOST",
        "DOCUMENTS_ANTIVIRUS",
        "PORTAIL_PROFILE",
    ):
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


PROD = {
    "PORTAIL_PROFILE": "prod",
    "DOCUMENTS_DATABASE_URL": "postgresql+asyncpg://db/documents",
    "REDIS_URL": "redis://redis:6379/0",
    "JWKS_URL": "http://auth/.well-known/jwks.json",
    "S3_ENDPOINT_URL": "https://s3.example.org",
    "S3_ACCESS_KEY_ID": "key",
    "S3_SECRET_ACCESS_KEY": "secret",
    "S3_BUCKET": "documents",
}


def _prod(monkeypatch, **antivirus: str) -> None:
    for name in ("CLAMD_HOST", "CLAMD_PORT", "DOCUMENTS_ANTIVIRUS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {**PROD, **antivirus}.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize("clamd_host", [None, ""])  # unset, or empty as compose leaves it
def test_prod_refuses_to_start_without_an_antivirus(monkeypatch, clamd_host) -> None:
    _prod(monkeypatch, **({} if clamd_host is None else {"CLAMD_HOST": clamd_host}))

    with pytest.raises(SettingsError) as refused:
        load_settings(DocumentsSettings)

    assert "CLAMD_HOST is required in prod" in str(refused.value)
    assert "DOCUMENTS_ANTIVIRUS=off" in str(refused.value)


def test_prod_starts_without_clamd_only_when_the_operator_says_off(monkeypatch) -> None:
    _prod(monkeypatch, DOCUMENTS_ANTIVIRUS="off")
    settings = load_settings(DocumentsSettings)
    assert (settings.antivirus_enabled, settings.antivirus_off_in_prod) == (False, True)


def test_off_never_disables_a_configured_clamd(monkeypatch) -> None:
    _prod(monkeypatch, CLAMD_HOST="clamav", DOCUMENTS_ANTIVIRUS="off")
    settings = load_settings(DocumentsSettings)
    assert (settings.antivirus_enabled, settings.antivirus_off_in_prod) == (True, False)


def test_prod_with_clamd_starts_and_scans(monkeypatch) -> None:
    _prod(monkeypatch, CLAMD_HOST="clamav")
    settings = load_settings(DocumentsSettings)
    assert (settings.antivirus_enabled, settings.antivirus_off_in_prod) == (True, False)


def test_a_misspelt_opt_out_is_refused_by_name(monkeypatch) -> None:
    _prod(monkeypatch, DOCUMENTS_ANTIVIRUS="no")
    with pytest.raises(SettingsError, match="DOCUMENTS_ANTIVIRUS"):
        load_settings(DocumentsSettings)
