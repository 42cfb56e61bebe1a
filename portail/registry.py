"""The services of the portal, in one place: name, package, settings, migrations."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.kit.settings import BaseServiceSettings

ROOT = Path(__file__).resolve().parent.parent
SERVICE_NAMES = ("auth", "families", "bookings", "billing", "documents", "notifications")


@dataclass(frozen=True)
class ServiceEntry:
    """How to find and start one service."""

    name: str

    @property
    def package(self) -> str:
        """Its Python package."""
        return f"services.{self.name}"

    @property
    def migrations_dir(self) -> Path:
        """Its Alembic folder."""
        return ROOT / "services" / self.name / "migrations"

    def settings_class(self) -> type[BaseServiceSettings]:
        """Its settings class (the only subclass of the kit's in its `config` module)."""
        module = importlib.import_module(f"{self.package}.config")
        found = [
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, BaseServiceSettings)
            and value is not BaseServiceSettings
        ]
        assert len(found) == 1, f"{self.package}.config must define one settings class"
        return found[0]

    def metadata(self) -> Any:
        """Its SQLAlchemy metadata."""
        return importlib.import_module(f"{self.package}.models").Base.metadata


SERVICES = tuple(ServiceEntry(name) for name in SERVICE_NAMES)


def service(name: str) -> ServiceEntry:
    """The entry of `name`, or KeyError."""
    for entry in SERVICES:
        if entry.name == name:
            return entry
    raise KeyError(name)
