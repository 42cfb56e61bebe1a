"""Where the dev profile keeps its state (`var/`) and which loopback ports it uses."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from services.kit.settings import DEV_REDIS_URL, DEV_S3_ENDPOINT, DEV_SMTP_PORT

HOST = "127.0.0.1"
SERVICE_PORTS = {
    "auth": 8101,
    "families": 8102,
    "bookings": 8103,
    "billing": 8104,
    "documents": 8105,
    "notifications": 8106,
}
# Credentials of the embedded S3 endpoint: dev only, the endpoint listens on loopback.
S3_ACCESS_KEY_ID = "portail-dev"
S3_SECRET_ACCESS_KEY = "portail-dev-secret"  # noqa: S105 - a fixed dev credential, loopback only
S3_BUCKET = "portail-dev"
S3_REGION = "eu-west-3"


def _port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/", 1)[0])


@dataclass(frozen=True)
class DevPorts:
    """The loopback ports of one dev portal; tests build one with free ports."""

    # Own ports, far from the 5432/6379 that CI machines already use.
    redis: int = _port_of(DEV_REDIS_URL)
    s3: int = _port_of(DEV_S3_ENDPOINT)
    smtp: int = DEV_SMTP_PORT
    inbox: int = 8025
    gateway: int = 8080
    services: dict[str, int] = field(default_factory=lambda: dict(SERVICE_PORTS))

    def shifted(self, offset: int) -> DevPorts:
        """The same ports plus `offset`: a second portal beside the first on one machine."""
        return DevPorts(
            redis=self.redis + offset,
            s3=self.s3 + offset,
            smtp=self.smtp + offset,
            inbox=self.inbox + offset,
            gateway=self.gateway + offset,
            services={name: port + offset for name, port in self.services.items()},
        )


@dataclass(frozen=True)
class VarLayout:
    """The folders under `var/`: one place to reset the whole dev state (`rm -rf var`)."""

    root: Path

    @property
    def db(self) -> Path:
        """One SQLite file per service."""
        return self.root / "db"

    @property
    def s3(self) -> Path:
        """The S3 endpoint's objects (a snapshot of its state)."""
        return self.root / "s3"

    @property
    def mail(self) -> Path:
        """Every message the SMTP catcher received, one `.eml` file each."""
        return self.root / "mail"

    @property
    def logs(self) -> Path:
        """One log file per process."""
        return self.root / "logs"

    @property
    def redis(self) -> Path:
        """Redis's append-only file."""
        return self.root / "redis"

    @property
    def run(self) -> Path:
        """What runs now (pids, URLs), for `portail status`."""
        return self.root / "run"

    @property
    def state_file(self) -> Path:
        """The launcher's description of its children."""
        return self.run / "devstack.json"

    @property
    def seed_notes(self) -> Path:
        """What the demo seeds want the developer to know (logins), for the summary."""
        return self.run / "seed-notes.json"

    def log(self, name: str) -> Path:
        """The log file of the process `name`."""
        return self.logs / f"{name}.log"

    def database_url(self, service: str) -> str:
        """The SQLite URL of a service's embedded database (absolute: children run anywhere)."""
        return f"sqlite+aiosqlite:///{(self.db / f'{service}.sqlite').resolve()}"

    def create(self) -> None:
        """Create every folder (idempotent)."""
        for path in (self.db, self.s3, self.mail, self.logs, self.redis, self.run):
            path.mkdir(parents=True, exist_ok=True)
