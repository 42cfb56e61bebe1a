"""« Mes données » (RGPD right of access): one ZIP of everything the portal holds on a family.

Each service answers its own part (`GET /families/{id}/export`, only to the family itself or
staff); this page asks all of them at once with the visitor's token and puts each answer in
one JSON file of a ZIP, with a French README.txt. Decisions:

- **All or nothing.** If one service cannot answer, no file is given: the page says which
  parts are missing and offers to try again. A silently partial file would let a family
  believe it holds all its data when it does not.
- **A POST with the CSRF token**, not a link: reading the export is journaled (families and
  documents record a `family.exported` event), so another site must not be able to trigger
  it in a parent's browser.
- **Built in memory, capped** (`MAX_EXPORT_BYTES`): a family's data is a few hundred
  kilobytes; far beyond that something is wrong and the structure answers by hand.
- Staff download the same ZIP for a family from its back-office record, for written requests.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from services.kit.identity import Identity
from services.kit.problems import NotFound, Problem

from ..calls import call_service, chosen_family
from ..paris_time import PARIS
from ..rendering import render
from ..session import require_signed_in, require_staff_page

ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Each service reads a whole family's history: more than a page's 5 s may be needed.
EXPORT_DEADLINE_SECONDS = 20.0
MAX_EXPORT_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class Part:
    """One service's part of the export: where it comes from, its file, what it holds."""

    service: str
    filename: str
    label: str
    holds: str


PARTS: tuple[Part, ...] = (
    Part(
        "families",
        "famille.json",
        "Ma famille",
        "le foyer, ses personnes (responsables, enfants, autres contacts) et les demandes de "
        "modification de la famille",
    ),
    Part(
        "auth",
        "comptes.json",
        "Comptes de connexion",
        "les comptes de la famille : adresse électronique, droits, connexions (dates et "
        "adresses IP) et liens d'invitation ou de réinitialisation reçus — jamais un mot de "
        "passe ni un code",
    ),
    Part(
        "bookings",
        "inscriptions-reservations.json",
        "Inscriptions et réservations",
        "les inscriptions, les réservations avec les présences relevées, les liens d'agenda",
    ),
    Part(
        "billing",
        "factures-paiements.json",
        "Factures et paiements",
        "les factures émises avec leurs lignes, les paiements et les paiements en ligne tentés",
    ),
    Part(
        "documents",
        "documents.json",
        "Documents",
        "les documents transmis, leur état, le motif d'un refus et la description de leurs "
        "fichiers (nom, type, taille) ; les fichiers eux-mêmes se téléchargent depuis "
        "« Mes documents »",
    ),
    Part(
        "notifications",
        "historique-messages.json",
        "Historique et messages",
        "l'historique des actions, les messages échangés avec la structure, la liste des "
        "courriels envoyés (sans leur texte) et les choix de courriels de la famille",
    ),
)


class ExportIncomplete(Exception):
    """Some services could not give their part: no file is given."""

    def __init__(self, missing: list[Part]) -> None:
        super().__init__(", ".join(part.service for part in missing))
        self.missing = missing


class ExportTooLarge(Exception):
    """The parts together exceed `MAX_EXPORT_BYTES`."""


# --- building the file ---------------------------------------------------------------------


async def _part(request: web.Request, part: Part, family_id: str) -> tuple[Part, Any]:
    """A service's answer for the family; None when it could not give it."""
    try:
        reply = await call_service(
            request,
            part.service,
            "GET",
            f"/families/{family_id}/export",
            deadline=EXPORT_DEADLINE_SECONDS,
        )
    except Problem:
        return part, None
    if reply.status == 404 and part.service == "families":
        # The families service is the one that knows whether the family exists at all.
        raise NotFound("Cette famille n'existe pas.")
    return part, reply.data if reply.ok and isinstance(reply.data, dict) else None


async def collect(request: web.Request, family_id: str) -> dict[str, Any]:
    """Every service's part, by file name; `ExportIncomplete` names those that failed."""
    answers = await asyncio.gather(*(_part(request, part, family_id) for part in PARTS))
    missing = [part for part, data in answers if data is None]
    if missing:
        raise ExportIncomplete(missing)
    return {part.filename: data for part, data in answers}


def readme(family_id: str, now: datetime) -> str:
    """The README.txt of the ZIP: what each file holds, what is not in it, whom to ask."""
    lines = [
        "Vos données personnelles — Espace Famille",
        "",
        f"Famille : {family_id}",
        f"Exportées le {now:%d/%m/%Y à %H:%M} (heure de Paris).",
        "",
        "Ce fichier ZIP contient toutes les données que le portail conserve sur votre famille,",
        "un fichier JSON par partie (un format texte lisible par tout logiciel) :",
        "",
    ]
    lines += [f"- {part.filename} ({part.label}) : {part.holds}." for part in PARTS]
    lines += [
        "",
        "Ce qui n'y est pas :",
        "- le contenu des fichiers des documents transmis (téléchargez-les un par un depuis",
        "  « Mes documents ») ;",
        "- le texte des courriels envoyés (ils peuvent contenir un lien de connexion à usage",
        "  unique) ; leur destinataire, leur objet et leur date y sont ;",
        "- aucun mot de passe, code ou jeton de connexion : le portail n'en garde que des",
        "  empreintes, qui ne sont pas des données vous concernant.",
        "",
        "Les dates sont en temps universel (UTC), les montants en centimes d'euro.",
        "Cet export est inscrit dans l'historique des actions de la famille.",
        "",
        "Pour faire corriger une donnée, utilisez « Ma famille » ou écrivez à la structure",
        "depuis « Contacter la structure ».",
        "",
    ]
    return "\n".join(lines)


def build_zip(family_id: str, parts: dict[str, Any], now: datetime) -> bytes:
    """The ZIP: README.txt, then one JSON file per part (indented, UTF-8)."""
    files = {
        name: json.dumps(data, ensure_ascii=False, indent=2).encode()
        for name, data in parts.items()
    }
    if sum(len(content) for content in files.values()) > MAX_EXPORT_BYTES:
        raise ExportTooLarge(family_id)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", readme(family_id, now))
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


# --- pages ---------------------------------------------------------------------------------


async def _page(
    request: web.Request,
    *,
    family_id: str | None,
    action: str,
    family_ids: list[str] | None = None,
    family_name: str | None = None,
    missing: list[Part] | None = None,
    too_large: bool = False,
    status: int = 200,
) -> web.Response:
    context = {
        "parts": PARTS,
        "family_id": family_id,
        "family_ids": family_ids or [],
        "family_name": family_name,
        "action": action,
        "for_staff": action.startswith("/agents/"),
        "missing": missing or [],
        "too_large": too_large,
    }
    return await render(request, "my_data/page.html", context, status=status)


async def _download(
    request: web.Request, family_id: str, page: dict[str, Any]
) -> web.StreamResponse:
    """The ZIP as an attachment, or the page saying why there is none."""
    now = datetime.now(PARIS)
    try:
        body = build_zip(family_id, await collect(request, family_id), now)
    except ExportIncomplete as exc:
        return await _page(request, family_id=family_id, missing=exc.missing, status=503, **page)
    except ExportTooLarge:
        return await _page(request, family_id=family_id, too_large=True, status=413, **page)
    return web.Response(
        body=body,
        content_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="donnees-famille-{now:%Y-%m-%d}.zip"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _own_family(identity: Identity, wanted: str | None) -> str:
    """The family asked for, if the parent belongs to it (another one is a 404)."""
    if wanted and wanted not in identity.family_ids:
        raise NotFound("Cette famille n'existe pas.")
    family_id = chosen_family(identity, wanted)
    if family_id is None:
        raise NotFound("Aucune famille n'est associée à ce compte.")
    return family_id


async def my_data_page(request: web.Request) -> web.StreamResponse:
    """GET /mes-donnees: what is exported, and the button."""
    identity = await require_signed_in(request)
    if identity.role == "staff":
        raise web.HTTPSeeOther("/agents/familles")
    family_ids = sorted(identity.family_ids)
    family_id = chosen_family(identity, request.query.get("famille"))
    return await _page(request, family_id=family_id, family_ids=family_ids, action="/mes-donnees")


async def my_data_download(request: web.Request) -> web.StreamResponse:
    """POST /mes-donnees: the family's ZIP (CSRF-checked by the middleware)."""
    identity = await require_signed_in(request)
    if identity.role == "staff":
        raise web.HTTPSeeOther("/agents/familles")
    form = await request.post()
    wanted = form.get("famille")
    family_id = _own_family(identity, wanted if isinstance(wanted, str) else None)
    page = {"family_ids": sorted(identity.family_ids), "action": "/mes-donnees"}
    return await _download(request, family_id, page)


def _staff_family_id(request: web.Request) -> str:
    family_id = request.match_info["family_id"]
    if not ID.match(family_id):
        raise NotFound("Cette famille n'existe pas.")
    return family_id


async def _family_name(request: web.Request, family_id: str) -> str | None:
    """The household's name for the staff page's title; 404 when there is no such family."""
    try:
        reply = await call_service(request, "families", "GET", f"/families/{family_id}")
    except Problem:
        return None  # the page still works; the download will say what is missing
    if reply.status == 404:
        raise NotFound("Cette famille n'existe pas.")
    return str(reply.data.get("name")) if reply.ok and isinstance(reply.data, dict) else None


async def staff_page(request: web.Request) -> web.StreamResponse:
    """GET /agents/familles/{family_id}/donnees: the same export, for a written request."""
    await require_staff_page(request)
    family_id = _staff_family_id(request)
    name = await _family_name(request, family_id)
    action = f"/agents/familles/{family_id}/donnees"
    return await _page(request, family_id=family_id, family_name=name, action=action)


async def staff_download(request: web.Request) -> web.StreamResponse:
    """POST /agents/familles/{family_id}/donnees: the family's ZIP, for staff."""
    await require_staff_page(request)
    family_id = _staff_family_id(request)
    page = {"action": f"/agents/familles/{family_id}/donnees", "family_name": None}
    return await _download(request, family_id, page)


def register(app: web.Application) -> None:
    """Add the « Mes données » pages."""
    app.router.add_get("/mes-donnees", my_data_page)
    app.router.add_post("/mes-donnees", my_data_download)
    app.router.add_get("/agents/familles/{family_id}/donnees", staff_page)
    app.router.add_post("/agents/familles/{family_id}/donnees", staff_download)
