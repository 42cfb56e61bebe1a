""" "Mon tableau de bord": tiles filled by the services, asked in parallel with a short deadline.

Contract: each service answers `GET /dashboard/{family_id}` (the family's bearer token) with
a JSON object of tile keys → `{"count": int}` (notifications may add `"news": [{title, text}]`).
A service that is down, slow, or whose breaker is open leaves its tiles saying so; a service
that does not have the endpoint yet (404) leaves its tiles without a count.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Literal

import structlog
from aiohttp import ClientError, web

from .keys import BREAKERS, GATEWAY_SETTINGS, UPSTREAM_CLIENT, UPSTREAM_METRICS

log = structlog.get_logger(__name__)

Availability = Literal["ok", "absent", "unavailable"]


@dataclass(frozen=True)
class Tile:
    """One tile of the dashboard, as in the manual (French text, translated by the catalog)."""

    key: str
    service: str
    title: str
    action: str
    href: str
    # The word after the count ("1 Personne"); None: the tile shows no count at all.
    unit: tuple[str, str] | None = None


TILES: tuple[Tile, ...] = (
    Tile("famille", "families", "Ma famille", "Afficher ma famille", "/famille",
         ("Personne", "Personnes")),
    Tile("inscriptions", "bookings", "Mes inscriptions", "Consulter mes inscriptions",
         "/inscriptions"),
    Tile("factures", "billing", "Mes factures", "Consulter mes factures", "/factures",
         ("À régler", "À régler")),
    Tile("documents", "documents", "Mes documents", "Documents de ma famille", "/documents",
         ("Attendu", "Attendus")),
    Tile("historique", "notifications", "Historique de mes actions", "Consulter mon historique",
         "/historique"),
    # « 8 Documents »: the manual shows a bare « 8 », which said nothing of what it counts.
    Tile("documentation", "documents", "Documentation structure", "Télécharger des documents",
         "/documentation", ("Document", "Documents")),
    Tile("contact", "notifications", "Contacter la structure", "Envoyer un message", "/contact"),
)  # fmt: skip


@dataclass(frozen=True)
class ServiceAnswer:
    """What one service said for the dashboard."""

    availability: Availability
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TileView:
    """A tile ready for the template."""

    tile: Tile
    count: int | None
    unavailable: bool


@dataclass(frozen=True)
class Dashboard:
    """The composed dashboard: tiles, news, and which services could not answer."""

    tiles: list[TileView]
    news: list[dict[str, str]]
    unavailable: list[str]


async def fetch_service(
    app: web.Application, service: str, token: str, family_id: str
) -> ServiceAnswer:
    """One service's dashboard answer, within the dashboard deadline, through its breaker."""
    settings = app[GATEWAY_SETTINGS]
    breaker = app[BREAKERS][service]
    metrics = app[UPSTREAM_METRICS]
    if not breaker.allow():
        metrics.calls.labels(service, "breaker_open").inc()
        return ServiceAnswer("unavailable")
    url = f"{settings.service_urls()[service]}/dashboard/{family_id}"
    try:
        async with asyncio.timeout(settings.dashboard_deadline_seconds):
            async with app[UPSTREAM_CLIENT].get(
                url, headers={"Authorization": f"Bearer {token}"}
            ) as response:
                status = response.status
                document = await response.json() if status == 200 else None
    except (ClientError, TimeoutError, ValueError) as exc:
        breaker.record_failure()
        metrics.calls.labels(service, "dashboard_failed").inc()
        log.warning("dashboard_service_failed", service=service, error=type(exc).__name__)
        return ServiceAnswer("unavailable")
    except BaseException:
        breaker.release()  # cancelled, or a bug of ours: nothing learnt about the service
        raise
    if status in (502, 503, 504):
        breaker.record_failure()
        return ServiceAnswer("unavailable")
    breaker.record_success()
    metrics.calls.labels(service, f"{status // 100}xx").inc()
    if status == 404:
        return ServiceAnswer("absent")
    if status != 200 or not isinstance(document, dict):
        log.warning("dashboard_service_refused", service=service, status=status)
        return ServiceAnswer("unavailable")
    return ServiceAnswer("ok", document)


def _count(answer: ServiceAnswer, key: str) -> int | None:
    entry = answer.data.get(key)
    if isinstance(entry, dict) and isinstance(entry.get("count"), int):
        return int(entry["count"])
    return None


def _news(answer: ServiceAnswer) -> list[dict[str, str]]:
    items = answer.data.get("news")
    if not isinstance(items, list):
        return []
    return [
        {"title": str(item.get("title", "")), "text": str(item.get("text", ""))}
        for item in items
        if isinstance(item, dict)
    ]


async def compose(app: web.Application, token: str, family_id: str | None) -> Dashboard:
    """Ask every tile's service at once and lay the tiles out, whatever each one answered."""
    services = sorted({tile.service for tile in TILES})
    if family_id is None:
        answers = {name: ServiceAnswer("absent") for name in services}
    else:
        results = await asyncio.gather(
            *(fetch_service(app, name, token, family_id) for name in services)
        )
        answers = dict(zip(services, results, strict=True))
    tiles = [
        TileView(
            tile=tile,
            count=_count(answers[tile.service], tile.key) if tile.unit is not None else None,
            unavailable=answers[tile.service].availability == "unavailable",
        )
        for tile in TILES
    ]
    return Dashboard(
        tiles=tiles,
        news=_news(answers.get("notifications", ServiceAnswer("absent"))),
        unavailable=[
            name for name, answer in answers.items() if answer.availability == "unavailable"
        ],
    )
