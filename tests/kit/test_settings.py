"""Settings come from the environment and fail fast, naming the variable."""

from __future__ import annotations

import pytest

from services.families.config import FamiliesSettings
from services.kit.settings import SettingsError, load_settings


def test_dev_profile_runs_on_embedded_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PORTAIL_PROFILE", raising=False)
    settings = load_settings(FamiliesSettings)
    assert settings.port == 8102
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.database_url.endswith("families.sqlite")


def test_prod_refuses_to_start_without_its_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAIL_PROFILE", "prod")
    monkeypatch.setenv("REDIS_URL", "redis://redis:6379/0")
    with pytest.raises(SettingsError) as error:
        load_settings(FamiliesSettings)
    message = str(error.value)
    assert "FAMILIES_DATABASE_URL" in message
    assert "JWKS_URL" in message
    assert "REDIS_URL" not in message


def test_prod_starts_when_everything_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAIL_PROFILE", "prod")
    monkeypatch.setenv("REDIS_URL", "redis://redis:6379/0")
    monkeypatch.setenv("FAMILIES_DATABASE_URL", "postgresql+asyncpg://db/families")
    monkeypatch.setenv("JWKS_URL", "http://gateway/api/auth/.well-known/jwks.json")
    settings = load_settings(FamiliesSettings)
    assert settings.database_url == "postgresql+asyncpg://db/families"


def test_a_malformed_value_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAMILIES_PORT", "huit-mille")
    with pytest.raises(SettingsError, match="FAMILIES_PORT"):
        load_settings(FamiliesSettings)


def test_an_unknown_profile_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAIL_PROFILE", "staging-ish")
    with pytest.raises(SettingsError, match="PORTAIL_PROFILE"):
        load_settings(FamiliesSettings)
