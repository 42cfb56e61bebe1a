"""HTTP handlers: parse, check the caller, call the service, serialise.

They are grouped by who calls them, one module each; this module gathers their routes.
"""

from __future__ import annotations

from aiohttp import web

from . import views_account, views_clients, views_export, views_sessions, views_staff

routes: list[web.AbstractRouteDef] = [
    *views_sessions.routes,
    *views_account.routes,
    *views_staff.routes,
    *views_clients.routes,
    *views_export.routes,
]
