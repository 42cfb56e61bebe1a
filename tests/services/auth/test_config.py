"""Settings: prod refuses to start without its secrets; short keys are refused."""

from __future__ import annotations

import pytest

from services.auth.config import AuthSettings
from services.auth.crypto import Sealer
from services.kit.settings import SettingsError, load_settings


def test_prod_needs_the_key_encryption_key_and_the_public_url(monkeypatch) -> None:
    monkeypatch.setenv("PORTAIL_PROFILE", "prod")
    monkeypatch.setenv("AUTH_DATABASE_URL", "postgresql+asyncpg://db/auth")
    monkeypatch.setenv("REDIS_URL", "redis://redis:6379/0")
    monkeypatch.setenv("JWKS_URL", "http://auth:8101/.well-known/jwks.json")
    monkeypatch.delenv("AUTH_KEY_ENCRYPTION_KEY", raising=False)
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    with pytest.raises(SettingsError) as refused:
        load_settings(AuthSettings)
    assert "AUTH_KEY_ENCRYPTION_KEY" in str(refused.value)
    assert "PUBLIC_BASE_URL" in str(refused.value)
    monkeypatch.setenv("AUTH_KEY_ENCRYPTION_KEY", "k" * 44)
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://portail.example.org")
    assert load_settings(AuthSettings).base_url == "https://portail.example.org"


def test_a_short_key_encryption_key_is_refused() -> None:
    with pytest.raises(SettingsError, match="AUTH_KEY_ENCRYPTION_KEY must be at least 32"):
        load_settings(AuthSettings, key_encryption_key="too-short")
    with pytest.raises(ValueError, match="at least 32"):
        Sealer("too-short")
