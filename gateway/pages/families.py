""" "Ma famille" for parents, and the staff pages of the families service.

Families: `/famille` (the household and its persons, pending requests), edit forms whose
saving files a change request ("Votre demande a été correctement enregistrée."), withdraw.
Staff: `/agents/demandes` (the queue, side by side, accept/refuse one or a batch with a
reason), `/agents/familles` (search, record, create), `/agents/champs` (the field policy).

Every call goes to the families service with the visitor's own token (`call_service`): the
service decides what the visitor may see and do; these pages only lay it out.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any
from urllib.parse import urlencode

import structlog
from aiohttp import web

from services.families.schemas import QUOTIENT_FIELDS
from services.kit.identity import Identity
from services.kit.problems import BadRequest, Forbidden, GatewayTimeout, NotFound, Problem

from .. import session_stash
from ..calls import ServiceReply, call_service, chosen_family
from ..formats import FORMATS, Formats, formats_of
from ..i18n import translator_of
from ..numbers import is_plain_number
from ..rendering import render
from ..service_messages import message_text, problem_text
from ..session import require_signed_in, require_staff_page

log = structlog.get_logger(__name__)

SERVICE = "families"
SAVED = "Votre demande a été correctement enregistrée."
NOTICES = {
    "enregistre": SAVED,
    "retire": "Votre demande a été retirée.",
    "accepte": "La demande a été acceptée.",
    "refuse": "La demande a été refusée.",
    "lot": "Les demandes sélectionnées ont été traitées.",
    "regles": "Les règles des champs ont été enregistrées.",
    "cree": "La famille a été créée.",
    "personne": "La personne a été ajoutée.",
    "modifie": "Le dossier a été modifié.",
}
STATE_LABELS = {
    "pending": "En attente de validation",
    "accepted": "Acceptée",
    "refused": "Refusée",
    "withdrawn": "Retirée",
}
ROLE_LABELS = {"responsable": "Responsable", "child": "Enfant", "contact": "Autre contact"}
ACCESS_LABELS = {
    "hidden": "Masqué",
    "read": "Lecture seule",
    "edit": "Modifiable",
    "mandatory": "Obligatoire",
}
CHOICES: dict[str, list[tuple[str, str]]] = {
    "allocataire_regime": [("CAF", "CAF"), ("MSA", "MSA"), ("autre", "Autre")],
    "quotient_source": [
        ("CAF", "CAF"),
        ("MSA", "MSA"),
        ("avis_imposition", "Avis d'imposition"),
        ("autre", "Autre"),
    ],
    "sex": [("F", "Féminin"), ("M", "Masculin")],
    "diet": [
        ("standard", "Standard"),
        ("sans_porc", "Sans porc"),
        ("sans_viande", "Sans viande"),
        ("vegetarien", "Végétarien"),
    ],
    "role": list(ROLE_LABELS.items()),
    "status": [("active", "Actif"), ("archived", "Archivé")],
}
BOOLEAN_FIELDS = frozenset(
    {
        "emergency_contact",
        "authorised_pickup",
        "pai",
        "photo_authorised",
        "may_leave_alone",
    }
)
DATE_FIELDS = frozenset(
    {"birth_date", "pai_end_date", "vaccination_dtp_date", "vaccination_ror_date", "quotient_date"}
)
INPUT_TYPES = {
    "email": "email",
    "email_other": "email",
    "phone": "tel",
    "phone_other": "tel",
    "phone_mobile": "tel",
    "phone_work": "tel",
    "doctor_phone": "tel",
    "quotient": "number",
}
AUTOCOMPLETE = {
    "address": "address-line1",
    "address_complement": "address-line2",
    "postal_code": "postal-code",
    "city": "address-level2",
    "email": "email",
    "phone": "tel",
    "phone_mobile": "tel",
}
# What staff type when creating a family (the rest comes through the record afterwards).
NEW_FAMILY_FIELDS = (
    ("name", "Nom de la famille", True),
    ("address", "Adresse", False),
    ("postal_code", "Code postal", False),
    ("city", "Commune", False),
    ("phone", "Téléphone du domicile", False),
    ("email", "Courriel", False),
)
NEW_PERSON_FIELDS = (
    ("role", "Qualité", True),
    ("first_name", "Prénom", True),
    ("last_name", "Nom", True),
    ("birth_date", "Date de naissance", False),
    ("phone_mobile", "Téléphone portable", False),
    ("email", "Courriel", False),
)


# --- Calling the service ---------------------------------------------------------------


async def _call(request: web.Request, method: str, path: str, **kwargs: Any) -> ServiceReply:
    reply = await call_service(request, SERVICE, method, path, **kwargs)
    if reply.status == 404:
        raise NotFound("No such page.")
    if reply.status == 403:
        raise Forbidden("Not allowed.")
    if reply.status == 401:
        raise web.HTTPSeeOther("/connexion?" + urlencode({"suite": request.path_qs}))
    return reply


# The families service's last page: a number past it is refused there (422).
LAST_PAGE = 10_000


def _page_number(request: web.Request) -> str:
    """`?page=` when it is a page the service serves, else the first."""
    number = request.query.get("page", "1")
    # The length first: int() refuses more than 4,300 digits (a ValueError, a 500).
    in_range = is_plain_number(number) and len(number) <= 5 and 1 <= int(number) <= LAST_PAGE
    return number if in_range else "1"


async def _read(request: web.Request, path: str, **kwargs: Any) -> Any:
    reply = await _call(request, "GET", path, **kwargs)
    if not reply.ok:
        raise Problem("The families service answered with an error.")
    return reply.data


def _errors_of(request: web.Request, reply: ServiceReply) -> tuple[dict[str, str], str]:
    """Field errors (`changes.` prefix dropped) and the general message of a refusal, in the
    page's language where the catalog knows the service's sentence."""
    data = reply.data if isinstance(reply.data, dict) else {}
    fields: dict[str, str] = {}
    for error in data.get("errors") or []:
        name = str(error.get("field", "")).removeprefix("changes.")
        fields[name] = message_text(request, str(error.get("message", "")))
    if reply.status == 409:
        general = problem_text(request, data, "Le dossier a été modifié entre-temps.")
    else:
        general = "Certains champs sont à corriger : voir les messages ci-dessous."
    return fields, general


# --- Forms ---------------------------------------------------------------------------


def display(name: str, value: Any, formats: Formats = FORMATS["fr"]) -> str:
    """A stored value as a screen shows it (a date in the page's language; the rest is
    translated by the template)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if name in DATE_FIELDS or name.endswith("_date"):
        return formats.date_text(str(value))
    labels = dict(CHOICES.get(name, []))
    return labels.get(str(value), str(value))


def form_value(name: str, value: Any) -> str:
    """A stored value as a form input holds it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    return str(value)


def parse_form_value(name: str, raw: str) -> Any:
    """A form input as the API expects it (blank is "no value")."""
    raw = raw.strip()
    if name in BOOLEAN_FIELDS:
        return {"oui": True, "non": False}.get(raw)
    if name == "quotient":
        return int(raw) if is_plain_number(raw) else (raw or None)
    return raw or None


def build_fields(
    rules: list[dict[str, Any]],
    record: dict[str, Any],
    *,
    submitted: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    pending: list[str] | None = None,
    formats: Formats = FORMATS["fr"],
) -> list[dict[str, Any]]:
    """What a form template needs per field: label, `*`, value, widget, error, pending."""
    fields = []
    for rule in rules:
        name = rule["field"]
        writable = rule["access"] in ("edit", "mandatory")
        value = (submitted or {}).get(name, form_value(name, record.get(name)))
        fields.append(
            {
                "name": name,
                "label": rule["label"],
                "mandatory": rule["mandatory"],
                "writable": writable,
                "value": value,
                "shown": display(name, record.get(name), formats),
                "widget": _widget(name),
                "input_type": INPUT_TYPES.get(name, "date" if name in DATE_FIELDS else "text"),
                "choices": CHOICES.get(name, []),
                "autocomplete": AUTOCOMPLETE.get(name, "off"),
                "error": (errors or {}).get(name),
                "pending": name in (pending or []),
            }
        )
        described = [f"{name}-erreur"] if fields[-1]["error"] else []
        described += [f"{name}-attente"] if fields[-1]["pending"] else []
        fields[-1]["describedby"] = " ".join(described)
    return fields


def name_billing_contact(fields: list[dict[str, Any]], persons: list[dict[str, Any]]) -> None:
    """Show the billing contact by name rather than by id."""
    names = {p["id"]: f"{p['first_name']} {p['last_name']}" for p in persons}
    for f in fields:
        # `shown` is the stored id; `value` is empty in a form sent back with errors (a
        # read-only field is not posted).
        if f["name"] == "billing_person_id" and f["shown"] in names:
            f["shown"] = names[f["shown"]]


def _widget(name: str) -> str:
    if name in BOOLEAN_FIELDS:
        return "boolean"
    if name in CHOICES:
        return "select"
    if name == "allergies":
        return "textarea"
    return "input"


# --- The family's pages -----------------------------------------------------------------


async def _family_of(request: web.Request, chosen: str | None = None) -> tuple[Identity, str]:
    identity = await require_signed_in(request)
    if identity.role == "staff":
        raise web.HTTPSeeOther("/agents/demandes")
    family_id = chosen_family(identity, chosen or request.query.get("famille"))
    if family_id is None:
        raise NotFound("No family for this account.")
    return identity, family_id


def _person_name(record: dict[str, Any]) -> str:
    return f"{record['first_name']} {record['last_name']}"


def _here(path: str, family_id: str, **query: str) -> str:
    return f"{path}?{urlencode({'famille': family_id, **query})}"


def _without_notice(request: web.Request) -> str:
    """This page without its `ok=`, other parameters kept: where a confirmation's « Ok » leads
    when no script closes it in place."""
    kept = [(name, value) for name, value in request.rel_url.query.items() if name != "ok"]
    return str(request.rel_url.with_query(kept))


async def family_page(request: web.Request) -> web.StreamResponse:
    """GET /famille: the household, its persons, its requests and their state."""
    identity, family_id = await _family_of(request)
    family, persons, requests = await asyncio.gather(
        _read(request, f"/families/{family_id}"),
        _read(request, f"/families/{family_id}/persons"),
        _read(request, f"/families/{family_id}/requests"),
    )
    fields = build_fields(
        family["fields"], family, pending=family["pending_fields"], formats=formats_of(request)
    )
    name_billing_contact(fields, persons)
    return await render(
        request,
        "families/family.html",
        {
            "family": family,
            "family_id": family_id,
            "family_ids": [m.family_id for m in identity.memberships],
            "fields": fields,
            "persons": persons,
            "requests": requests,
            "notice": NOTICES.get(request.query.get("ok", "")),
            "dismiss_url": _without_notice(request),
            "role_labels": ROLE_LABELS,
            "state_labels": STATE_LABELS,
            "display": partial(display, formats=formats_of(request)),
            "day": formats_of(request).day,
        },
    )


async def person_page(request: web.Request) -> web.StreamResponse:
    """GET /famille/personnes/{person_id}: one person's details, pending fields marked."""
    _identity, family_id = await _family_of(request)
    person_id = request.match_info["person_id"]
    person = await _read(request, f"/families/{family_id}/persons/{person_id}")
    return await render(
        request,
        "families/person.html",
        {
            "person": person,
            "family_id": family_id,
            "fields": build_fields(
                person["fields"],
                person,
                pending=person["pending_fields"],
                formats=formats_of(request),
            ),
            "role_labels": ROLE_LABELS,
            "notice": NOTICES.get(request.query.get("ok", "")),
            "dismiss_url": _without_notice(request),
        },
    )


def _form_version(form: Any) -> int:
    """The record's version the form was read at (a hidden field): a forged one is a 400."""
    text = str(form.get("version", "")).strip() or "0"
    if not is_plain_number(text) or len(text) > 18:
        raise BadRequest("Le formulaire envoyé est illisible.")
    return int(text)


# A parent's request refused because the record changed (409) is not answered on the POST:
# a reload would post the stale form again, refused again. What they typed waits here, per
# session and form, while the page is shown again by a GET on the record as it is now.
REFUSED_QUERY = "refus"
DRAFT_SECONDS = 30 * 60
CHANGED_MEANWHILE = (
    "Votre dossier a été modifié entre-temps (par la structure, ou par une demande acceptée) : "
    "votre demande n'a pas été envoyée. Le formulaire montre le dossier à jour avec ce que "
    "vous aviez saisi ; vérifiez-le puis validez à nouveau."
)
READ_PREFIX = "lu."  # hidden copies of the values the form was read with


def _draft_name(request: web.Request, family_id: str) -> str:
    # One form per family and page (the household's, or one person's).
    return f"famille-saisie:{family_id}:{request.path}"


async def _keep_draft(request: web.Request, family_id: str, draft: dict[str, Any]) -> bool:
    """Keep a refused form for the page's next GET; False when it cannot be kept."""
    name = _draft_name(request, family_id)
    return await session_stash.keep(request, name, draft, seconds=DRAFT_SECONDS)


async def _kept_draft(request: web.Request, family_id: str) -> dict[str, Any] | None:
    kept: dict[str, Any] | None = await session_stash.read(request, _draft_name(request, family_id))
    return kept


async def _forget_draft(request: web.Request, family_id: str) -> None:
    await session_stash.forget(request, _draft_name(request, family_id))


def _typed_in_form(
    form: Any, rules: list[dict[str, Any]], record: dict[str, Any]
) -> dict[str, str]:
    """The writable fields the visitor (a parent, an agent) changed in the form: compared with
    the values the form was read with (its hidden copies), not with today's record, which the
    structure may have changed meanwhile (its new value is no typing of the visitor's)."""
    typed = {}
    for rule in rules:
        name = rule["field"]
        if rule["access"] not in ("edit", "mandatory"):
            continue
        value = str(form.get(name, "")).strip()
        read = str(form.get(READ_PREFIX + name, form_value(name, record.get(name)))).strip()
        if value != read:
            typed[name] = value
    return typed


def _refused_draft(
    request: web.Request,
    reply: ServiceReply,
    typed: dict[str, str],
    changed_meanwhile: str = CHANGED_MEANWHILE,
) -> dict[str, Any]:
    """What the page says after a 409: why, the fields refused, and what was typed."""
    errors, general = _errors_of(request, reply)
    data = reply.data if isinstance(reply.data, dict) else {}
    if str(data.get("type", "")).endswith("/stale-version"):
        general = changed_meanwhile
    return {"general": general, "errors": errors, "typed": typed}


def _with_typed(
    rules: list[dict[str, Any]],
    record: dict[str, Any],
    typed: dict[str, str],
    errors: dict[str, str],
) -> dict[str, str]:
    """Today's record with the visitor's own changes on it, but for the fields refused."""
    return {
        r["field"]: typed.get(r["field"], form_value(r["field"], record.get(r["field"])))
        if r["field"] not in errors
        else form_value(r["field"], record.get(r["field"]))
        for r in rules
    }


def _typed_list(
    typed: dict[str, str], labels: dict[str, str], formats: Formats
) -> list[tuple[str, str]]:
    """(label, value) of what was typed, for the alert: a date as the page writes dates."""
    return [
        (
            labels.get(name, name),
            formats.date_text(value) if value and name in DATE_FIELDS else value,
        )
        for name, value in typed.items()
    ]


async def _edit(request: web.Request, *, person_id: str | None) -> web.StreamResponse:
    form = await request.post() if request.method == "POST" else None
    chosen = str(form.get("famille", "")) if form else None
    _identity, family_id = await _family_of(request, chosen)
    path = f"/families/{family_id}" + (f"/persons/{person_id}" if person_id else "")
    record = await _read(request, path)
    submitted: dict[str, str] | None = None
    errors: dict[str, str] = {}
    general = None
    typed: dict[str, str] = {}
    status = 200
    version = record["version"]
    fresh_values = {
        r["field"]: form_value(r["field"], record.get(r["field"]))
        for r in record["fields"]
        if r["access"] in ("edit", "mandatory")
    }
    read_values = fresh_values
    if form is not None:
        submitted = {r["field"]: str(form.get(r["field"], "")) for r in record["fields"]}
        changes = {
            r["field"]: parse_form_value(r["field"], submitted[r["field"]])
            for r in record["fields"]
            if r["access"] in ("edit", "mandatory")
        }
        version = _form_version(form)
        read_values = {n: str(form.get(READ_PREFIX + n, v)) for n, v in fresh_values.items()}
        body: dict[str, Any] = {
            "target": "person" if person_id else "family",
            "version": version,
            "changes": changes,
        }
        if person_id:
            body["person_id"] = person_id
        reply = await _call(request, "POST", f"/families/{family_id}/requests", json=body)
        if reply.ok:
            await _forget_draft(request, family_id)
            back = f"/famille/personnes/{person_id}" if person_id else "/famille"
            raise web.HTTPSeeOther(_here(back, family_id, ok="enregistre"))
        if reply.status == 409:
            draft = _refused_draft(request, reply, _typed_in_form(form, record["fields"], record))
            if await _keep_draft(request, family_id, draft):
                raise web.HTTPSeeOther(_here(request.path, family_id, **{REFUSED_QUERY: "1"}))
            # Without Redis the page answers the POST itself, on the record as it is now.
            errors, general, typed = draft["errors"], draft["general"], draft["typed"]
            submitted, version, read_values, status = None, record["version"], fresh_values, 409
        else:
            errors, general = _errors_of(request, reply)
            if reply.status == 422 and "changes" in errors and len(errors) == 1:
                general, errors = "Aucune modification à enregistrer.", {}
            status = 422
    elif request.query.get(REFUSED_QUERY):
        kept = await _kept_draft(request, family_id)
        if kept:
            errors, general, typed = kept["errors"], kept["general"], kept["typed"]
    if typed and submitted is None:
        submitted = _with_typed(record["fields"], record, typed, errors)
    title = (
        # Translated here: a name inside the text cannot be a catalog key.
        translator_of(request)("Modifier {name}", name=_person_name(record))
        if person_id
        else "Modifier les coordonnées de la famille"
    )
    fields = build_fields(
        record["fields"],
        record,
        submitted=submitted,
        errors=errors,
        pending=record["pending_fields"],
        formats=formats_of(request),
    )
    labels = {f["name"]: f["label"] for f in fields}
    if not person_id:  # read-only for families: shown by name, not by its id
        name_billing_contact(fields, await _read(request, f"/families/{family_id}/persons"))
    return await render(
        request,
        "families/edit.html",
        {
            "title": title,
            "family_id": family_id,
            "version": version,
            "action": request.path,
            "cancel": (f"/famille/personnes/{person_id}" if person_id else "/famille"),
            "fields": fields,
            "general": general,
            "errors": errors,
            "typed": _typed_list(typed, labels, formats_of(request)),
            "read_values": read_values,
            "staff": False,
        },
        status=status,
    )


async def edit_family(request: web.Request) -> web.StreamResponse:
    """GET/POST /famille/modifier: the household's contact details as a change request."""
    return await _edit(request, person_id=None)


async def edit_person(request: web.Request) -> web.StreamResponse:
    """GET/POST /famille/personnes/{person_id}/modifier: a person's details as a request."""
    return await _edit(request, person_id=request.match_info["person_id"])


async def withdraw(request: web.Request) -> web.StreamResponse:
    """POST /famille/demandes/{request_id}/retirer."""
    form = await request.post()
    _identity, family_id = await _family_of(request, str(form.get("famille", "")))
    request_id = request.match_info["request_id"]
    reply = await _call(request, "POST", f"/families/{family_id}/requests/{request_id}/withdraw")
    ok = "retire" if reply.ok else ""
    raise web.HTTPSeeOther(_here("/famille", family_id, ok=ok))


# --- Staff pages ------------------------------------------------------------------------


async def queue_page(request: web.Request) -> web.StreamResponse:
    """GET /agents/demandes: pending requests, side by side with today's values."""
    await require_staff_page(request)
    state = request.query.get("etat", "pending")
    if state not in STATE_LABELS:
        state = "pending"
    params = {"state": state, "size": "50", "page": _page_number(request)}
    family_id = request.query.get("famille", "")[:36]
    if family_id:
        params["family_id"] = family_id
    page = await _read(request, "/staff/requests", params=params)
    return await render(
        request,
        "families/queue.html",
        {
            "page": page,
            "state": state,
            "state_labels": STATE_LABELS,
            "notice": NOTICES.get(request.query.get("ok", "")),
            "error": request.query.get("erreur") == "1",
            "failure": None,
            "failed_id": None,
            "family_filter": family_id,
            "display": partial(display, formats=formats_of(request)),
            "day": formats_of(request).day,
        },
    )


def _queue_url(family_filter: str, **query: str) -> str:
    """The queue again, still on the family it was opened for (the agent came from its record)."""
    return "/agents/demandes?" + urlencode(
        {**query, **({"famille": family_filter} if family_filter else {})}
    )


async def decide(request: web.Request) -> web.StreamResponse:
    """POST /agents/demandes/{request_id}: accept or refuse one request with its reason."""
    await require_staff_page(request)
    form = await request.post()
    decision = "accept" if form.get("decision") == "accepter" else "refuse"
    reason = str(form.get("motif", "")).strip() or None
    family_filter = str(form.get("famille", ""))[:36]
    request_id = request.match_info["request_id"]
    reply = await _call(
        request, "POST", f"/staff/requests/{request_id}/{decision}", json={"reason": reason}
    )
    if reply.ok:
        raise web.HTTPSeeOther(
            _queue_url(family_filter, ok="accepte" if decision == "accept" else "refuse")
        )
    _fields, general = _errors_of(request, reply)
    detail = general if reply.status == 409 else _first_message(reply) or general
    params = {"state": "pending", "size": "50"}
    if family_filter:
        params["family_id"] = family_filter
    page = await _read(request, "/staff/requests", params=params)
    return await render(
        request,
        "families/queue.html",
        {
            "page": page,
            "state": "pending",
            "state_labels": STATE_LABELS,
            "notice": None,
            "failure": detail,
            "failed_id": request_id,
            "family_filter": family_filter,
            "error": False,
            "display": partial(display, formats=formats_of(request)),
            "day": formats_of(request).day,
        },
        status=reply.status,
    )


def _first_message(reply: ServiceReply) -> str | None:
    data = reply.data if isinstance(reply.data, dict) else {}
    errors = data.get("errors") or []
    return str(errors[0].get("message")) if errors else data.get("detail")


async def decide_batch(request: web.Request) -> web.StreamResponse:
    """POST /agents/demandes/lot: the same decision on the checked requests."""
    await require_staff_page(request)
    form = await request.post()
    ids = [str(v) for v in form.getall("demandes", [])][:100]
    decision = "accept" if form.get("decision") == "accepter" else "refuse"
    reason = str(form.get("motif", "")).strip() or None
    family_filter = str(form.get("famille", ""))[:36]
    if not ids:
        raise web.HTTPSeeOther(_queue_url(family_filter))
    reply = await _call(
        request,
        "POST",
        "/staff/requests/batch",
        json={"request_ids": ids, "decision": decision, "reason": reason},
    )
    failed = not reply.ok or any(r["status"] != 200 for r in reply.data.get("results", []))
    outcome = {"erreur": "1"} if failed else {"ok": "lot"}
    raise web.HTTPSeeOther(_queue_url(family_filter, **outcome))


async def search_page(request: web.Request) -> web.StreamResponse:
    """GET /agents/familles?q=…: families by name, a person's name or an e-mail."""
    await require_staff_page(request)
    q = request.query.get("q", "").strip()[:100]
    result = None
    if len(q) >= 2:
        result = await _read(
            request,
            "/staff/families",
            params={"q": q, "page": _page_number(request), "size": "20"},
        )
    return await render(
        request,
        "families/search.html",
        {"q": q, "result": result, "too_short": 0 < len(q) < 2},
    )


async def record_page(request: web.Request) -> web.StreamResponse:
    """GET /agents/familles/{family_id}: the whole record, persons and requests."""
    await require_staff_page(request)
    family_id = request.match_info["family_id"]
    family, persons, requests, policy = await asyncio.gather(
        _read(request, f"/families/{family_id}"),
        _read(request, f"/families/{family_id}/persons"),
        _read(request, f"/families/{family_id}/requests"),
        _read(request, "/staff/policy"),
    )
    person_rules = [r for r in policy["rules"] if r["entity"] == "person" and r["role"] == "staff"]
    fields = build_fields(family["fields"], family, formats=formats_of(request))
    name_billing_contact(fields, persons)
    return await render(
        request,
        "families/record.html",
        {
            "family": family,
            "display": partial(display, formats=formats_of(request)),
            "day": formats_of(request).day,
            "fields": fields,
            "persons": [
                {
                    "person": p,
                    "fields": build_fields(
                        [
                            {**r, "mandatory": r["access"] == "mandatory"}
                            for r in person_rules
                            # A child's record has no adult's field, an adult's no child's
                            # (the service's rule).
                            if not r.get("adults_only" if p["role"] == "child" else "children_only")
                        ],
                        p,
                        formats=formats_of(request),
                    ),
                }
                for p in persons
            ],
            "children": sum(p["role"] == "child" for p in persons),
            "requests": requests,
            "state_labels": STATE_LABELS,
            "role_labels": ROLE_LABELS,
            "notice": NOTICES.get(request.query.get("ok", "")),
            "new_person": _blank_fields(NEW_PERSON_FIELDS),
        },
    )


NOT_SAVED = (
    "Le dossier n'a pas pu être enregistré, rien n'a été modifié : réessayez dans un instant."
)
MAYBE_SAVED = (
    "Le service des familles n'a pas répondu à temps : le dossier a pu être enregistré, en "
    "entier ou pas du tout. Rechargez-le pour le vérifier avant de recommencer."
)


def _refusal(request: web.Request, reply: ServiceReply) -> tuple[dict[str, str], str, int]:
    """Field errors, the general message and the page's status of a save the service refused
    (nothing of it written)."""
    if reply.status >= 500:
        return {}, NOT_SAVED, 502
    errors, general = _errors_of(request, reply)
    return errors, general, 409 if reply.status == 409 else 422


STAFF_CHANGED_MEANWHILE = (
    "Ce dossier a été modifié entre-temps (par un autre agent, ou une demande acceptée) : vos "
    "modifications n'ont pas été enregistrées. Le formulaire montre le dossier à jour avec vos "
    "modifications ; vérifiez-les puis enregistrez à nouveau."
)
CLASHED = (
    "Modifié entre-temps : le champ montre la valeur enregistrée, la vôtre est rappelée en "
    "haut de la page."
)


def _clashes(
    form: Any, rules: list[dict[str, Any]], record: dict[str, Any], typed: dict[str, str]
) -> dict[str, str]:
    """The typed fields someone else changed meanwhile, to another value: today's value is
    shown there rather than silently overwritten by the agent's."""
    clashed = {}
    for rule in rules:
        name = rule["field"]
        now = form_value(name, record.get(name))
        read = str(form.get(READ_PREFIX + name, now)).strip()
        if name in typed and read != now and typed[name] != now:
            clashed[name] = CLASHED
    return clashed


async def staff_edit(request: web.Request) -> web.StreamResponse:
    """GET/POST /agents/familles/{family_id}[/personnes/{person_id}]/modifier: a direct edit.

    Only the fields changed in the form are sent, against the version the form was read at:
    a record changed meanwhile (another agent, an accepted request) answers 409 and the
    page says so instead of overwriting it. One call saves the whole form, the quotient
    included: the service writes all of it or nothing, so a refusal never leaves half a
    form saved behind the error. A 409 is post/redirect/get, like the parents' forms: the
    agent's changes wait in Redis and a 303 leads to this form on the record as it is now
    (a reload posts nothing).
    """
    await require_staff_page(request)
    family_id = request.match_info["family_id"]
    person_id = request.match_info.get("person_id")
    path = f"/families/{family_id}" + (f"/persons/{person_id}" if person_id else "")
    record = await _read(request, path)
    rules = record["fields"]
    submitted: dict[str, str] | None = None
    errors: dict[str, str] = {}
    general = None
    typed: dict[str, str] = {}
    status = 200
    version = record["version"]
    fresh_values = {
        r["field"]: form_value(r["field"], record.get(r["field"]))
        for r in rules
        if r["access"] in ("edit", "mandatory")
    }
    read_values = fresh_values
    if request.method == "POST":
        form = await request.post()
        version = _form_version(form)
        submitted = {r["field"]: str(form.get(r["field"], "")) for r in rules}
        read_values = {n: str(form.get(READ_PREFIX + n, v)) for n, v in fresh_values.items()}
        changed = {
            r["field"]: parse_form_value(r["field"], submitted[r["field"]])
            for r in rules
            if r["access"] in ("edit", "mandatory")
            and submitted[r["field"]].strip() != form_value(r["field"], record.get(r["field"]))
        }
        # A quotient goes whole, with its date and source, in the same call as the rest.
        if not person_id and any(name in changed for name in QUOTIENT_FIELDS):
            for name in QUOTIENT_FIELDS:
                changed.setdefault(name, record.get(name))
        try:
            reply = await _call(request, "PATCH", path, json={"version": version, **changed})
        except GatewayTimeout:
            # The service may still finish the save: never half of it, but the page cannot
            # tell which (sending the form again is safe: its version would then be stale).
            general, status = MAYBE_SAVED, 504
        else:
            if reply.ok:
                await _forget_draft(request, family_id)
                raise web.HTTPSeeOther(f"/agents/familles/{family_id}?ok=modifie")
            if reply.status == 409:
                typed = _typed_in_form(form, rules, record)
                draft = _refused_draft(request, reply, typed, STAFF_CHANGED_MEANWHILE)
                draft["errors"] |= _clashes(form, rules, record, typed)
                if await _keep_draft(request, family_id, draft):
                    raise web.HTTPSeeOther(f"{request.path}?{REFUSED_QUERY}=1")
                # Without Redis the page answers the POST itself, on the record as it is now.
                errors, general = draft["errors"], draft["general"]
                submitted, version, read_values, status = None, record["version"], fresh_values, 409
            else:
                errors, general, status = _refusal(request, reply)
    elif request.query.get(REFUSED_QUERY):
        kept = await _kept_draft(request, family_id)
        if kept:
            errors, general, typed = kept["errors"], kept["general"], kept["typed"]
    if typed and submitted is None:
        submitted = _with_typed(rules, record, typed, errors)
    # Kept in French in the draft: the page reads in the language of each visit.
    errors = {n: translator_of(request)(e) if e == CLASHED else e for n, e in errors.items()}
    title = (
        translator_of(request)("Modifier {name}", name=_person_name(record))
        if person_id
        else translator_of(request)("Modifier la famille {name}", name=record["name"])
    )
    fields = build_fields(
        rules, record, submitted=submitted, errors=errors, formats=formats_of(request)
    )
    labels = {f["name"]: f["label"] for f in fields}
    if not person_id:
        persons = await _read(request, f"/families/{family_id}/persons")
        for f in fields:
            if f["name"] == "billing_person_id":  # chosen among the household, not typed
                f["widget"] = "select"
                f["choices"] = [(p["id"], f"{p['first_name']} {p['last_name']}") for p in persons]
    return await render(
        request,
        "families/edit.html",
        {
            "title": title,
            "family_id": family_id,
            "version": version,
            "action": request.path,
            "cancel": f"/agents/familles/{family_id}",
            "fields": fields,
            "general": general,
            "errors": errors,
            "typed": _typed_list(typed, labels, formats_of(request)),
            "read_values": read_values,
            "staff": True,
            # A save that may have gone through: a link reads the record afresh.
            "reload": request.path if status == 504 else None,
        },
        status=status,
    )


def _blank_fields(
    spec: tuple[tuple[str, str, bool], ...],
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    rules = [
        {"field": name, "label": label, "access": "mandatory" if required else "edit",
         "mandatory": required}
        for name, label, required in spec
    ]  # fmt: skip
    return build_fields(rules, {}, submitted=values or {}, errors=errors)


async def new_family(request: web.Request) -> web.StreamResponse:
    """GET/POST /agents/familles/nouvelle: create a household (then invite it through auth)."""
    await require_staff_page(request)
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    general = None
    if request.method == "POST":
        form = await request.post()
        values = {name: str(form.get(name, "")) for name, _label, _req in NEW_FAMILY_FIELDS}
        body = {k: v.strip() for k, v in values.items() if v.strip()}
        reply = await _call(request, "POST", "/families", json=body)
        if reply.ok:
            raise web.HTTPSeeOther(f"/agents/familles/{reply.data['id']}?ok=cree")
        errors, general = _errors_of(request, reply)
    return await render(
        request,
        "families/new.html",
        {
            "title": "Créer une famille",
            "action": "/agents/familles/nouvelle",
            "fields": _blank_fields(NEW_FAMILY_FIELDS, values, errors),
            "general": general,
        },
        status=422 if general else 200,
    )


async def new_person(request: web.Request) -> web.StreamResponse:
    """POST /agents/familles/{family_id}/personnes: add a person to the household."""
    await require_staff_page(request)
    family_id = request.match_info["family_id"]
    form = await request.post()
    values = {name: str(form.get(name, "")) for name, _label, _req in NEW_PERSON_FIELDS}
    body = {k: v.strip() for k, v in values.items() if v.strip()}
    reply = await _call(request, "POST", f"/families/{family_id}/persons", json=body)
    if reply.ok:
        raise web.HTTPSeeOther(f"/agents/familles/{family_id}?ok=personne")
    errors, general = _errors_of(request, reply)
    return await render(
        request,
        "families/new.html",
        {
            "title": "Ajouter une personne",
            "action": request.path,
            "fields": _blank_fields(NEW_PERSON_FIELDS, values, errors),
            "general": general,
        },
        status=422,
    )


async def policy_page(request: web.Request) -> web.StreamResponse:
    """GET/POST /agents/champs: hidden / read-only / editable / mandatory per field and role."""
    await require_staff_page(request)
    general = None
    if request.method == "POST":
        form = await request.post()
        current = await _read(request, "/staff/policy")
        changes = []
        for rule in current["rules"]:
            key = f"{rule['entity']}.{rule['field']}.{rule['role']}"
            wanted = str(form.get(key, rule["access"]))
            if wanted != rule["access"] and wanted in ACCESS_LABELS:
                changes.append(
                    {k: rule[k] for k in ("entity", "field", "role")} | {"access": wanted}
                )
        if not changes:
            raise web.HTTPSeeOther("/agents/champs")
        reply = await _call(request, "PUT", "/staff/policy", json={"rules": changes})
        if reply.ok:
            raise web.HTTPSeeOther("/agents/champs?ok=regles")
        general = _first_message(reply)
    policy = await _read(request, "/staff/policy")
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for rule in policy["rules"]:
        row = rows.setdefault(
            (rule["entity"], rule["field"]),
            {"entity": rule["entity"], "field": rule["field"], "label": rule["label"],
             "protected": rule["protected"], "adults_only": rule.get("adults_only", False),
             "children_only": rule.get("children_only", False)},
        )  # fmt: skip
        row[rule["role"]] = rule
    return await render(
        request,
        "families/policy.html",
        {
            "rows": list(rows.values()),
            "access_labels": ACCESS_LABELS,
            "general": general,
            "notice": NOTICES.get(request.query.get("ok", "")),
        },
        status=422 if general else 200,
    )


def register(app: web.Application) -> None:
    """Add the "Ma famille" pages and the staff pages of the families service."""
    for path, handler in (
        ("/famille", family_page),
        ("/famille/personnes/{person_id}", person_page),
        ("/agents/demandes", queue_page),
        ("/agents/familles", search_page),
    ):
        app.router.add_get(path, handler)
    for path, handler in (
        ("/famille/modifier", edit_family),
        ("/famille/personnes/{person_id}/modifier", edit_person),
        ("/agents/familles/nouvelle", new_family),
        ("/agents/champs", policy_page),
    ):
        app.router.add_get(path, handler)
        app.router.add_post(path, handler)
    app.router.add_post("/famille/demandes/{request_id}/retirer", withdraw)
    app.router.add_post("/agents/demandes/lot", decide_batch)
    app.router.add_post("/agents/demandes/{request_id}", decide)
    app.router.add_get("/agents/familles/{family_id}", record_page)
    for path in (
        "/agents/familles/{family_id}/modifier",
        "/agents/familles/{family_id}/personnes/{person_id}/modifier",
    ):
        app.router.add_get(path, staff_edit)
        app.router.add_post(path, staff_edit)
    app.router.add_post("/agents/familles/{family_id}/personnes", new_person)
