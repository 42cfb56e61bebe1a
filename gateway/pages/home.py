""" "Mon tableau de bord" (`/`): the tiles of the manual, composed from the services."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from services.kit.problems import Problem

from ..calls import call_service, chosen_family
from ..dashboard import compose
from ..keys import GATEWAY_SETTINGS, SESSION
from ..menu import MenuEntry, menu_for
from ..rendering import render
from ..session import require_signed_in


def local_path(value: str | None, default: str = "/") -> str:
    """`value` if it is a path on this site (no open redirect to another one), else `default`.

    A control character anywhere refuses it: browsers drop tabs and line breaks from a URL,
    and so does aiohttp in `Location`, so `/<TAB>/evil.example` would become `//evil.example`.
    """
    if not value or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return default
    if value.startswith("/") and not value.startswith(("//", "/\\")):
        return value
    return default


@dataclass(frozen=True)
class StaffTile:
    """A section of the staff home, with how much waits in its queue (0: nothing to say)."""

    entry: MenuEntry
    waiting: int = 0


async def waiting_counts(request: web.Request) -> dict[str, int]:
    """Notifications' counts of what waits for staff; none when it cannot answer in time
    (the home page is the way to every section: it never waits on a figure)."""
    deadline = request.app[GATEWAY_SETTINGS].dashboard_deadline_seconds
    try:
        reply = await call_service(request, "notifications", "GET", "/staff/waiting",
                                   deadline=deadline)  # fmt: skip
    except Problem:
        return {}
    if not reply.ok or not isinstance(reply.data, dict):
        return {}
    return {k: v for k, v in reply.data.items() if isinstance(v, int) and v > 0}


async def staff_home(request: web.Request, staff_roles: frozenset[str]) -> web.StreamResponse:
    """Staff belong to no family: their home is the back office's sections, each queue's tile
    saying how much waits in it."""
    counts = await waiting_counts(request)
    tiles = [
        StaffTile(entry, counts.get(entry.queue, 0) if entry.queue else 0)
        for entry in menu_for("staff", staff_roles)[1:]
    ]
    return await render(request, "staff_home.html", {"tiles": tiles})


async def dashboard_page(request: web.Request) -> web.StreamResponse:
    """GET /: the dashboard of the chosen (or first) family of the signed-in account."""
    identity = await require_signed_in(request)
    if identity.role == "staff":
        return await staff_home(request, identity.staff_roles)
    session = request.get(SESSION)
    assert session is not None and session.jwt is not None  # signed in implies both
    family_ids = [membership.family_id for membership in identity.memberships]
    family_id = chosen_family(identity, request.query.get("famille"))
    dashboard = await compose(request.app, session.jwt, family_id)
    return await render(
        request,
        "dashboard.html",
        {"dashboard": dashboard, "family_ids": family_ids, "family_id": family_id},
    )


def register(app: web.Application) -> None:
    """Add the dashboard page."""
    app.router.add_get("/", dashboard_page, name="dashboard")
