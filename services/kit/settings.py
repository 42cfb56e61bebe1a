"""Typed settings read once from the environment, failing fast with a readable message."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Profile = Literal["dev", "test", "prod"]

# Where the dev profile keeps its embedded state (databases, mail, objects, logs).
VAR_DIR = Path("var")
DEV_REDIS_URL = "redis://127.0.0.1:16379/0"
DEV_S3_ENDPOINT = "http://127.0.0.1:19000"
DEV_SMTP_PORT = 11025


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the environment variable."""


class BaseServiceSettings(BaseSettings):
    """Settings every service shares; subclasses set `env_prefix` and their own fields.

    Shared values (profile, Redis, gateway, tokens) have fixed environment names; a
    service's own values (database, port) are prefixed with its name, e.g.
    `FAMILIES_DATABASE_URL`.
    """

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    service_name: ClassVar[str] = "service"
    default_port: ClassVar[int] = 8100
    # Fields that must come from the environment in `prod`: a dev default would be a
    # silent misconfiguration there.
    required_in_prod: ClassVar[tuple[str, ...]] = ("database_url", "redis_url", "jwks_url")
    # Connections opened beyond `database_pool_size` in a burst and closed when handed back
    # (None: as many as the pool). A service whose requests are short and many sets 0: a
    # burst then waits a moment for a pooled connection instead of opening (and preparing
    # its statements on) a new one per request.
    database_max_overflow: ClassVar[int | None] = None

    profile: Profile = Field("dev", validation_alias="PORTAIL_PROFILE")
    host: str = "127.0.0.1"
    port: int = 0
    database_url: str = ""
    database_pool_size: int = Field(10, ge=1, le=200)
    redis_url: str = Field(DEV_REDIS_URL, validation_alias="REDIS_URL")
    gateway_url: str = Field("http://127.0.0.1:8080", validation_alias="GATEWAY_URL")
    jwks_url: str = Field("", validation_alias="JWKS_URL")
    # A JWKS document given inline (tests, air-gapped installs); wins over `jwks_url`.
    jwks_json: str = Field("", validation_alias="JWKS_JSON")
    jwt_issuer: str = Field("portail-auth", validation_alias="JWT_ISSUER")
    jwt_audience: str = Field("portail", validation_alias="JWT_AUDIENCE")
    log_level: str = Field("INFO", validation_alias="LOG_LEVEL")
    http_timeout_seconds: float = Field(4.0, gt=0, le=60, validation_alias="HTTP_TIMEOUT_SECONDS")
    http_connect_timeout_seconds: float = Field(
        1.0, gt=0, le=30, validation_alias="HTTP_CONNECT_TIMEOUT_SECONDS"
    )
    # The relay is woken by each commit that writes an event (by PostgreSQL's NOTIFY when it
    # runs in a process of its own); this poll is the safety net.
    outbox_relay_interval_seconds: float = Field(
        1.0, gt=0, validation_alias="OUTBOX_RELAY_INTERVAL"
    )
    # false: this process serves requests only, its commits that wrote events send a NOTIFY,
    # and `portail outbox-relay <service>` runs its outbox relay as a process of its own
    # (services/kit/relay_process.py) — as the shipped deployments do.
    outbox_relay_in_process: bool = Field(True, validation_alias="OUTBOX_RELAY_IN_PROCESS")
    # Once woken, the relay waits this long for the commits that follow before its pass:
    # events leave at most this much later, and a busy service runs a pass per moment
    # rather than one per commit.
    outbox_relay_gather_seconds: float = Field(
        0.05, ge=0, le=5, validation_alias="OUTBOX_RELAY_GATHER"
    )
    outbox_republish_after_seconds: float = Field(
        30.0, gt=0, validation_alias="OUTBOX_REPUBLISH_AFTER"
    )
    # Confirmed outbox rows are the producer's record of what it emitted, kept this long.
    outbox_keep_confirmed_days: float = Field(
        30.0, gt=0, validation_alias="OUTBOX_KEEP_CONFIRMED_DAYS"
    )
    run_migrations_at_start: bool = Field(False, validation_alias="RUN_MIGRATIONS_AT_START")

    @model_validator(mode="after")
    def _fill_dev_defaults_and_check_prod(self) -> BaseServiceSettings:
        missing = [
            self.env_name(name)
            for name in self.required_in_prod
            if self.profile == "prod" and name not in self.model_fields_set
        ]
        if missing:
            raise ValueError("required in prod, not set: " + ", ".join(missing))
        # frozen model: defaults derived from the service name are set once, here.
        if not self.port:
            object.__setattr__(self, "port", self.default_port)
        if not self.database_url:
            path = VAR_DIR / "db" / f"{self.service_name}.sqlite"
            object.__setattr__(self, "database_url", f"sqlite+aiosqlite:///{path}")
        if not self.jwks_url and not self.jwks_json:
            url = f"{self.gateway_url}/api/auth/.well-known/jwks.json"
            object.__setattr__(self, "jwks_url", url)
        return self

    @classmethod
    def env_name(cls, field: str) -> str:
        """The environment variable that sets `field`."""
        info = cls.model_fields[field]
        if isinstance(info.validation_alias, str):
            return info.validation_alias
        prefix = cls.model_config.get("env_prefix") or ""
        return f"{prefix}{field}".upper()


SettingsT = TypeVar("SettingsT", bound=BaseSettings)


def load_settings(cls: type[SettingsT], **overrides: Any) -> SettingsT:
    """Build settings from the environment, or raise `SettingsError` naming each bad variable."""
    try:
        return cls(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            name = _env_name_of(cls, field)
            problems.append(f"{name}: {error['msg']}" if name else error["msg"])
        raise SettingsError(f"{cls.__name__}: " + "; ".join(problems)) from None


def _env_name_of(cls: type[BaseSettings], field: str) -> str:
    if field in cls.model_fields and issubclass(cls, BaseServiceSettings):
        return cls.env_name(field)
    return field.upper()


def load_settings_or_exit(cls: type[SettingsT]) -> SettingsT:
    """For process entry points: print the problem and stop with status 2."""
    try:
        return load_settings(cls)
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
