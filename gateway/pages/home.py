""" "Mon tableau de bord" (`/`): the tiles of the manual, composed from the services."""

from __future__ import annotations

from aiohttp import web

from ..dashboard import compose
from ..keys import SESSION
from ..menu import menu_for
from ..rendering import render
from ..session import require_signed_in


def local_path(value: str | None, default: str = "/") -> str:
    """`value` if it is a path on this site (no open redirect to another one), else `default`."""
    if value and value.startswith("/") and not value.startswith(("//", "/\\")):
        return value
    return default


async def dashboard_page(request: web.Request) -> web.StreamResponse:
    """GET /: the dashboard of the chosen (or first) family of the signed-in account."""
    identity = await require_signed_in(request)
    if identity.role == "staff":
        # Staff belong to no family: their home is the back office's list of sections.
        sections = menu_for("staff", identity.staff_roles)[1:]
        return await render(request, "staff_home.html", {"sections": sections})
    session = request.get(SESSION)
    assert session is not None and session.jwt is not None  # signed in implies both
    family_ids = [membership.family_id for membership in identity.memberships]
    chosen = request.query.get("famille")
    family_id = chosen if chosen in family_ids else (family_ids[0] if family_ids else None)
    dashboard = await compose(request.app, session.jwt, family_id)
    return await render(
        request,
        "dashboard.html",
        {"dashboard": dashboard, "family_ids": family_ids, "family_id": family_id},
    )


def register(app: web.Application) -> None:
    """Add the dashboard page."""
    app.router.add_get("/", dashboard_page, name="dashboard")
