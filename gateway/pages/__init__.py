"""Pages are plug-ins: every module here with a `register(app)` is loaded at startup.

Another module may take over a path a placeholder module serves (a module setting
`PLACEHOLDER = True` registers after all others and must skip paths already taken, with
`route_taken`), so the real sign-in pages replace the placeholder without editing it.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from aiohttp import web


def page_modules() -> list[ModuleType]:
    """Every page module, regular ones first, placeholders last."""
    modules = [
        importlib.import_module(f"{__name__}.{info.name}")
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name)
        if not info.name.startswith("_")
    ]
    modules = [module for module in modules if callable(getattr(module, "register", None))]
    return sorted(modules, key=lambda module: bool(getattr(module, "PLACEHOLDER", False)))


def load_pages(app: web.Application) -> None:
    """Let every page module add its routes."""
    for module in page_modules():
        module.register(app)


def route_taken(app: web.Application, method: str, path: str) -> bool:
    """Is `method path` already served by some page?"""
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        if route.method in (method, "*") and info.get("path") == path:
            return True
    return False
