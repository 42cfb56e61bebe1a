""" "Mes documents", "Documentation structure" and the staff pages of the documents service.

Every rule (formats, sizes, hostile content, who may see what) lives in the documents
service; these pages gather forms, call it as the signed-in visitor and show its answer.
Files go to `/api/documents/…` from the browser (a small script adds the CSRF header): the
gateway's proxy streams them to the service within the upload limit, never buffering them
here. Downloads are links to the same API, served by the service as attachments.
"""

from __future__ import annotations

import asyncio
import re
from datetime import date, datetime, time
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import ClientError, FormData, web

from services.kit.problems import BadGateway, GatewayTimeout, Problem

from ..calls import ServiceReply, call_service, chosen_family, family_names, fetch_json
from ..i18n import translator_of
from ..keys import GATEWAY_SETTINGS, SESSION, UPSTREAM_CLIENT
from ..numbers import is_plain_number
from ..paris_time import PARIS
from ..rendering import render
from ..service_messages import (
    UPLOAD_PROBLEMS,
    UPLOAD_SENTENCES,
    problem_text,
    script_messages,
    script_sentences,
)
from ..session import require_signed_in, require_staff_page

# Ids go into service paths: nothing but an id's characters (no "..", no "/").
ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_FIELD = 200
FORMAT_LABELS = {"pdf": "PDF", "jpeg": "JPEG", "png": "PNG"}
ACCEPT = {"pdf": ".pdf,application/pdf", "jpeg": ".jpg,.jpeg,image/jpeg", "png": ".png,image/png"}


def _id(value: Any) -> str | None:
    text = str(value or "")
    return text if ID.match(text) else None


def _field(form: Any, name: str, limit: int = MAX_FIELD) -> str:
    return str(form.get(name, ""))[:limit].strip()


def api(path: str) -> str:
    """The browser-side address of a documents API path (through the gateway's proxy)."""
    return "/api/documents" + path


def upload_limits(request: web.Request) -> dict[str, Any]:
    """For the upload script: the gateway's upload limit and the page's sentence for files
    over it. The gateway refuses such a body itself (413) before the documents service sees
    it, with a detail in English; the script says this instead, and checks the files' sizes
    before sending them (a parent on a phone need not send 11 MB to learn it is too much)."""
    limit = request.app[GATEWAY_SETTINGS].max_upload_body_bytes
    _ = translator_of(request)
    too_large = _(
        "Les fichiers choisis dépassent la taille autorisée ({size} Mo au total). "
        "Réduisez-les (un scan en PDF ou une photo moins lourde) et réessayez.",
        size=round(limit / (1024 * 1024)),
    )
    return {"upload_limit": limit, "upload_too_large": too_large}


def _initials(name: str) -> str:
    return "".join(part[0] for part in name.split()[:2]).upper() or "?"


def _accept_attr(formats: list[str]) -> str:
    return ",".join(ACCEPT[f] for f in formats if f in ACCEPT)


async def _forward_files(request: web.Request, path: str, form: Any) -> ServiceReply:
    """Send the form's `file` fields to the documents service (the no-script path).

    Without a script a form cannot carry the CSRF header, so it posts to a page; the
    gateway has then parsed it already (within its page body limit), and the files are
    passed on as they came. The script path streams to `/api/documents/…` instead.
    """
    body = FormData(default_to_multipart=True)
    for field in form.getall("file", []):
        if isinstance(field, web.FileField):
            body.add_field("file", field.file.read(), filename=field.filename)
    settings = request.app[GATEWAY_SETTINGS]
    base = settings.service_urls()["documents"]
    session = request.get(SESSION)
    headers = {"Authorization": f"Bearer {session.jwt}"} if session and session.jwt else {}
    try:
        async with asyncio.timeout(settings.upstream_deadline_seconds * 3):
            async with request.app[UPSTREAM_CLIENT].post(
                base + path, data=body, headers=headers
            ) as response:
                data = await response.json(content_type=None)
                return ServiceReply(response.status, data, response.headers)
    except TimeoutError:
        raise GatewayTimeout("The documents service did not answer in time.") from None
    except (ClientError, ValueError):
        raise BadGateway("The documents service cannot be reached.") from None


# --- families ----------------------------------------------------------------------------


async def documents_page(request: web.Request) -> web.StreamResponse:
    """GET /documents: the family's documents, its members; a member's expected documents."""
    identity = await require_signed_in(request)
    family_id = chosen_family(identity, request.query.get("famille"))
    context: dict[str, Any] = {
        "family_id": family_id,
        "family_ids": [m.family_id for m in identity.memberships],
        "overview": None,
        "member": None,
        "initials": _initials,
    }
    if family_id is not None:
        overview = await fetch_json(request, "documents", f"/families/{quote(family_id)}/documents")
        context["overview"] = overview
        wanted = request.query.get("personne")
        if overview and wanted:
            context["member"] = next(
                (m for m in overview["members"] if m["person_id"] == wanted), None
            )
    return await render(request, "documents/family.html", context)


async def document_page(request: web.Request) -> web.StreamResponse:
    """GET /documents/piece: one expected document, its state, and the form to send it."""
    identity = await require_signed_in(request)
    family_id = chosen_family(identity, request.query.get("famille"))
    type_id = _id(request.query.get("type"))
    person_id = _id(request.query.get("personne"))
    if family_id is None or type_id is None:
        raise web.HTTPSeeOther("/documents")
    overview = await fetch_json(request, "documents", f"/families/{quote(family_id)}/documents")
    item, owner = None, None
    if overview is not None:
        if person_id is None:
            item = next((d for d in overview["family"] if d["document_type_id"] == type_id), None)
        else:
            owner = next((m for m in overview["members"] if m["person_id"] == person_id), None)
            items = owner["documents"] if owner else []
            item = next((d for d in items if d["document_type_id"] == type_id), None)
    if overview is not None and item is None:
        raise web.HTTPNotFound()
    query = {"person_id": person_id} if person_id else {}
    upload_url = api(f"/families/{quote(family_id)}/documents/{type_id}/files")
    if query:
        upload_url += "?" + urlencode(query)
    back = {"famille": family_id, **({"personne": person_id} if person_id else {})}
    context = {
        "family_id": family_id,
        "item": item,
        "owner": owner,
        "upload_messages": script_messages(request, UPLOAD_PROBLEMS),
        "upload_sentences": script_sentences(request, UPLOAD_SENTENCES),
        **upload_limits(request),
        "unavailable": overview is None,
        "upload_url": upload_url,
        "done_url": "/documents/piece?" + urlencode({**back, "type": type_id, "envoye": "1"}),
        "back_url": "/documents?" + urlencode(back),
        "sent": "envoye" in request.query,
        "accept": _accept_attr(item["accepted_formats"]) if item else "",
        "formats": ", ".join(FORMAT_LABELS[f] for f in item["accepted_formats"]) if item else "",
        "api": api,
    }
    return await render(request, "documents/piece.html", context)


async def send_document(request: web.Request) -> web.StreamResponse:
    """POST /documents/envoyer: the upload form without a script (small files)."""
    identity = await require_signed_in(request)
    form = await request.post()
    family_id = chosen_family(identity, _field(form, "famille"))
    type_id = _id(form.get("type"))
    person_id = _id(form.get("personne"))
    if family_id is None or type_id is None:
        raise web.HTTPSeeOther("/documents")
    path = f"/families/{quote(family_id)}/documents/{type_id}/files"
    if person_id:
        path += "?" + urlencode({"person_id": person_id})
    reply = await _forward_files(request, path, form)
    back = {"famille": family_id, "type": type_id, **({"personne": person_id} if person_id else {})}
    if reply.ok:
        raise web.HTTPSeeOther("/documents/piece?" + urlencode({**back, "envoye": "1"}))
    detail = problem_text(request, reply.data, "L'envoi a échoué. Réessayez.")
    return await render(
        request,
        "documents/refused.html",
        {"detail": detail, "back_url": "/documents/piece?" + urlencode(back)},
        status=reply.status,
    )


async def documentation_page(request: web.Request) -> web.StreamResponse:
    """GET /documentation: the structure's published documents, to download."""
    await require_signed_in(request)
    listed = await fetch_json(request, "documents", "/org-documents")
    return await render(
        request,
        "documents/documentation.html",
        {"documents": None if listed is None else listed["items"], "api": api},
    )


# --- staff -------------------------------------------------------------------------------


async def _review_page(
    request: web.Request, *, notice: str | None = None, error: str | None = None, status: int = 200
) -> web.Response:
    queue = await fetch_json(request, "documents", "/review/submissions", limit="100")
    items = None if queue is None else queue["items"]
    context = {
        "queue": items,
        # The documents service knows a family by its id only: the agent needs its name.
        "family_names": await family_names(request, (s["family_id"] for s in items or [])),
        "notice": notice,
        "error": error,
        "api": api,
    }
    return await render(request, "documents/review.html", context, status=status)


# After a decision the agent is sent back to the queue (Post/Redirect/Get: a refresh does not
# decide again): `?ok=` is one of these keys, `&document=` and `&famille=` the submission
# whose document type the notice names — read back from the service, never from the address.
DECISION_NOTICES = {
    "accepte": ("accepted", "{name} : accepté."),
    "refuse": ("refused", "{name} : refusé."),
}


async def _decision_notice(request: web.Request) -> str | None:
    """« Vaccinations : accepté. »; « Document : accepté. » when the submission cannot be
    read back or is not in the state the key says."""
    known = DECISION_NOTICES.get(request.query.get("ok", ""))
    if known is None:
        return None
    state, sentence = known
    _ = translator_of(request)
    name = _("Document")
    submission_id, family_id = _id(request.query.get("document")), _id(request.query.get("famille"))
    if submission_id and family_id:
        path = f"/families/{quote(family_id)}/submissions/{submission_id}"
        submission = await fetch_json(request, "documents", path)
        if submission and submission.get("state") == state:
            name = submission["document_type_name"]
    return _(sentence, name=name)


async def review_page(request: web.Request) -> web.StreamResponse:
    """GET /agents/documents: the documents waiting for a decision."""
    await require_staff_page(request)
    return await _review_page(request, notice=await _decision_notice(request))


async def decide(request: web.Request) -> web.StreamResponse:
    """POST /agents/documents/{submission_id}/decision: accept, or refuse with a reason."""
    await require_staff_page(request)
    submission_id = _id(request.match_info["submission_id"])
    if submission_id is None:
        raise web.HTTPNotFound()
    form = await request.post()
    decision = _field(form, "decision")
    if decision == "accept":
        body: dict[str, Any] = {}
        if _field(form, "valide_jusqu_au"):
            body["valid_until"] = _field(form, "valide_jusqu_au")
        path = f"/submissions/{submission_id}/accept"
    elif decision == "refuse":
        reason = _field(form, "motif", 1000)
        if len(reason) < 3:
            return await _review_page(
                request, error="Indiquez le motif du refus : la famille le lira.", status=422
            )
        body, path = {"reason": reason}, f"/submissions/{submission_id}/refuse"
    else:
        return await _review_page(request, error="Choisissez accepter ou refuser.", status=422)
    reply = await call_service(request, "documents", "POST", path, json=body)
    if not reply.ok:
        detail = problem_text(request, reply.data, "La décision n'a pas pu être enregistrée.")
        return await _review_page(request, error=detail, status=reply.status)
    done = {
        "ok": "accepte" if decision == "accept" else "refuse",
        "document": submission_id,
        "famille": str(reply.data.get("family_id", "")),
    }
    raise web.HTTPSeeOther("/agents/documents?" + urlencode(done))


def _type_body(form: Any) -> tuple[dict[str, Any], str | None]:
    formats = [f for f in form.getall("formats", []) if f in FORMAT_LABELS]
    validity = _field(form, "validite")
    body: dict[str, Any] = {
        "name": _field(form, "nom", 160),
        "help_text": _field(form, "aide", 2000),
        "concerns": _field(form, "concerne") or "family",
        "mandatory": form.get("obligatoire") == "on",
        "accepted_formats": formats or list(FORMAT_LABELS),
        "all_activities": form.get("toutes_activites") == "on",
        "activity_ids": list(
            dict.fromkeys(
                [str(a)[:64] for a in form.getall("activite", []) if _id(a)]
                + [a.strip() for a in _field(form, "activites", 2000).split(",") if a.strip()]
            )
        ),
        "active": form.get("actif", "on") == "on",
    }
    if validity:
        if not is_plain_number(validity):
            return body, "La durée de validité est un nombre de jours."
        body["validity_days"] = int(validity)
    else:
        body["validity_days"] = None
    return body, None


async def _types_page(
    request: web.Request, *, notice: str | None = None, error: str | None = None, status: int = 200
) -> web.Response:
    listed = await fetch_json(request, "documents", "/document-types", all="true")
    context = {
        "types": None if listed is None else listed["items"],
        "activities": await _activities(request),
        "notice": notice,
        "error": error,
        "formats": FORMAT_LABELS,
    }
    return await render(request, "documents/types.html", context, status=status)


async def _activities(request: web.Request) -> list[dict[str, str]]:
    """The bookings catalogue's activities (id, name), to tick; empty when unavailable."""
    try:
        reply = await call_service(request, "bookings", "GET", "/activities")
    except Problem:
        return []
    items = reply.data.get("items", []) if reply.ok and isinstance(reply.data, dict) else []
    return [{"id": str(a["id"]), "name": str(a.get("name", a["id"]))} for a in items if "id" in a]


async def types_page(request: web.Request) -> web.StreamResponse:
    """GET /agents/types-documents: the document types editor."""
    await require_staff_page(request)
    return await _types_page(request)


async def save_type(request: web.Request) -> web.StreamResponse:
    """POST /agents/types-documents (create) or /agents/types-documents/{type_id} (change)."""
    await require_staff_page(request)
    type_id = request.match_info.get("type_id")
    if type_id is not None and _id(type_id) is None:
        raise web.HTTPNotFound()
    body, problem = _type_body(await request.post())
    if problem:
        return await _types_page(request, error=problem, status=422)
    if type_id is None:
        reply = await call_service(request, "documents", "POST", "/document-types", json=body)
    else:
        reply = await call_service(
            request, "documents", "PATCH", f"/document-types/{type_id}", json=body
        )
    if not reply.ok:
        detail = problem_text(
            request, reply.data, "Le type de document n'a pas pu être enregistré."
        )
        return await _types_page(request, error=detail, status=reply.status)
    saved = translator_of(request)("« {name} » enregistré.", name=reply.data["name"])
    return await _types_page(request, notice=saved)


async def _publications_page(
    request: web.Request, *, notice: str | None = None, error: str | None = None, status: int = 200
) -> web.Response:
    listed = await fetch_json(request, "documents", "/staff/org-documents")
    types = await fetch_json(request, "documents", "/document-types", all="true")
    context = {
        "documents": None if listed is None else listed["items"],
        "types": [] if types is None else types["items"],
        "notice": notice,
        "error": error,
        "api": api,
        **upload_limits(request),
    }
    return await render(request, "documents/publications.html", context, status=status)


async def publications_page(request: web.Request) -> web.StreamResponse:
    """GET /agents/documentation: publish documents for families."""
    await require_staff_page(request)
    return await _publications_page(request, notice=request.query.get("ok") and "Enregistré.")


async def publish(request: web.Request) -> web.StreamResponse:
    """POST /agents/documentation: the document's description (its file is sent next)."""
    await require_staff_page(request)
    form = await request.post()
    body: dict[str, Any] = {
        "title": _field(form, "titre"),
        "category": _field(form, "categorie", 80),
        "description": _field(form, "description", 2000),
        "to_return": form.get("a_retourner") == "on",
        "document_type_id": _id(form.get("type")) or None,
    }
    for field, name in (("published_at", "debut"), ("published_until", "fin")):
        if _field(form, name):
            try:
                day = date.fromisoformat(_field(form, name))
            except ValueError:
                return await _publications_page(
                    request, error="Les dates s'écrivent JJ/MM/AAAA.", status=422
                )
            # A day of the structure starts at midnight in Paris (summer or winter time).
            body[field] = datetime.combine(day, time(0), PARIS).isoformat()
    reply = await call_service(request, "documents", "POST", "/org-documents", json=body)
    if not reply.ok:
        detail = problem_text(request, reply.data, "Le document n'a pas pu être enregistré.")
        return await _publications_page(request, error=detail, status=reply.status)
    return await _publications_page(
        request,
        notice=translator_of(request)(
            "« {title} » créé : ajoutez maintenant son fichier.", title=reply.data["title"]
        ),
    )


async def attach_file(request: web.Request) -> web.StreamResponse:
    """POST /agents/documentation/{document_id}/fichier: the file form without a script."""
    await require_staff_page(request)
    document_id = _id(request.match_info["document_id"])
    if document_id is None:
        raise web.HTTPNotFound()
    reply = await _forward_files(
        request, f"/org-documents/{document_id}/files", await request.post()
    )
    if not reply.ok:
        detail = problem_text(request, reply.data, "Le fichier n'a pas pu être enregistré.")
        return await _publications_page(request, error=detail, status=reply.status)
    raise web.HTTPSeeOther("/agents/documentation?ok=1")


async def withdraw(request: web.Request) -> web.StreamResponse:
    """POST /agents/documentation/{document_id}/retirer: withdraw and delete the file."""
    await require_staff_page(request)
    document_id = _id(request.match_info["document_id"])
    if document_id is None:
        raise web.HTTPNotFound()
    # Withdrawing deletes the file for every family, for good: the first click only names the
    # document and asks, the confirmation's button sends it again with confirme=1.
    if _field(await request.post(), "confirme") != "1":
        return await _withdraw_confirmation(request, document_id)
    reply = await call_service(request, "documents", "DELETE", f"/org-documents/{document_id}")
    if not reply.ok:
        detail = problem_text(request, reply.data, "Le document n'a pas pu être retiré.")
        return await _publications_page(request, error=detail, status=reply.status)
    return await _publications_page(request, notice="Document retiré.")


async def _withdraw_confirmation(request: web.Request, document_id: str) -> web.Response:
    """The withdrawal's confirmation: which document, and that families lose it."""
    listed = await fetch_json(request, "documents", "/staff/org-documents")
    if listed is None:
        return await _publications_page(
            request, error="Service momentanément indisponible", status=503
        )
    document = next((d for d in listed["items"] if d["id"] == document_id), None)
    if document is None:
        return await _publications_page(
            request, error="Le document n'a pas pu être retiré.", status=404
        )
    return await render(request, "documents/withdraw_confirm.html", {"document": document})


def register(app: web.Application) -> None:
    """Add the documents pages."""
    app.router.add_get("/documents", documents_page)
    app.router.add_get("/documents/piece", document_page)
    app.router.add_post("/documents/envoyer", send_document)
    app.router.add_get("/documentation", documentation_page)
    app.router.add_get("/agents/documents", review_page)
    app.router.add_post("/agents/documents/{submission_id}/decision", decide)
    app.router.add_get("/agents/types-documents", types_page)
    app.router.add_post("/agents/types-documents", save_type)
    app.router.add_post("/agents/types-documents/{type_id}", save_type)
    app.router.add_get("/agents/documentation", publications_page)
    app.router.add_post("/agents/documentation", publish)
    app.router.add_post("/agents/documentation/{document_id}/fichier", attach_file)
    app.router.add_post("/agents/documentation/{document_id}/retirer", withdraw)
