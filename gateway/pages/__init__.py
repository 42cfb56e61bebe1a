"""Pages are plug-ins: every module here with a `register(app)` is loaded at startup."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from aiohttp import web


def page_modules() -> list[ModuleType]:
    """Every page module, by name."""
    modules = [
        importlib.import_module(f"{__name__}.{info.name}")
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name)
        if not info.name.startswith("_")
    ]
    return [module for module in modules if callable(getattr(module, "register", None))]


def load_pages(app: web.Application) -> None:
    """Let every page module add its routes."""
    for module in page_modules():
        module.register(app)
