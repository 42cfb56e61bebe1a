""" "Mes inscriptions" (`/inscriptions`) and the staff queue (`/agents/inscriptions`).

Every rule lives in the bookings service: these pages only gather a form, call the service
as the signed-in visitor and show its answer — a refusal's `detail` is French and precise
(window closed, age, documents missing, complet…), so it is shown as it is. The request form
leaves out, as a convenience, what the service is sure to refuse (asked twice, not for the
person's age); the service judges every request again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from services.bookings.ages import age_on
from services.kit.identity import Identity
from services.kit.problems import Problem

from ..calls import call_service, chosen_family, family_names
from ..i18n import translator_of
from ..numbers import is_plain_number
from ..rendering import render
from ..service_messages import message_text, problem_text
from ..session import require_signed_in, require_staff_page

MAX_FIELD = 200
# Ids go into service paths: nothing but an id's characters (no "..", no "/").
ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
STATES = (
    ("requested", "demandée"),
    ("accepted", "acceptée"),
    ("refused", "refusée"),
    ("cancelled", "annulée"),
)
FILTERS = {"activite": "activity_id", "etat": "state", "annee": "school_year"}
# After a form that worked the browser is sent back to the page (Post/Redirect/Get: a refresh
# does not send the form again); `?ok=` names one of these fixed sentences, never free text.
NOTICES = {
    "envoyee": "Votre demande d'inscription a été enregistrée.",
    "annulee": "L'inscription a été annulée.",
}
# The staff's decisions: `?ok=` and, from the service's answer, how many (`&n=`).
DECISION_NOTICES = {
    "acceptees": ("Demande acceptée.", "{count} demandes acceptées."),
    "refusees": ("Demande refusée.", "{count} demandes refusées."),
}
MAX_DECISIONS = 200
# Why a period cannot be asked again (the service refuses it: the form says it beforehand).
TAKEN = {"requested": "déjà demandée", "accepted": "inscription acceptée"}
# Why a period of an activity otherwise offered cannot be asked: no group takes the person's
# age at its first day (the service would refuse it).
NOT_FOR_AGE = "pas à son âge"


def _field(form: Any, name: str) -> str:
    return str(form.get(name, ""))[:MAX_FIELD].strip()


async def _get(request: web.Request, service: str, path: str, **params: str) -> Any:
    """A service's JSON, or None when it could not answer (the page says so)."""
    try:
        reply = await call_service(request, service, "GET", path, params=params or None)
    except Problem:
        return None
    return reply.data if reply.ok else None


async def _family_page(
    request: web.Request,
    identity: Identity,
    family_id: str | None,
    *,
    person_id: str | None,
    error: str | None = None,
    notice: str | None = None,
    chosen: str = "",
    status: int = 200,
) -> web.Response:
    context: dict[str, Any] = {
        "chosen": chosen,
        "family_id": family_id,
        "family_ids": [m.family_id for m in identity.memberships],
        "persons": [],
        "person": None,
        "registrations": [],
        "catalogue": [],
        "activities": [],
        "years": [],
        "filters": {key: request.query.get(key, "") for key in FILTERS},
        "states": STATES,
        "error": message_text(request, error) if error else None,  # shown as it is
        "notice": notice,
        "unavailable": [],
        "taken": {},
        "open_activities": [],
        "taken_activities": [],
        "age_left_out": [],
        "age_out": {},
    }
    if family_id is None:
        return await render(request, "bookings/inscriptions.html", context, status=status)
    persons = await _get(request, "families", f"/families/{family_id}/persons")
    if persons is None:
        context["unavailable"].append("familles")
        persons = []
    children_first = sorted(persons, key=lambda p: (p.get("role") != "child", p["first_name"]))
    context["persons"] = children_first
    person = next((p for p in children_first if p["id"] == person_id), None)
    context["person"] = person
    if person is None:
        return await render(request, "bookings/inscriptions.html", context, status=status)
    path = f"/families/{family_id}/registrations"
    everything = await _get(request, "bookings", path, person_id=person["id"])
    if everything is None:
        context["unavailable"].append("inscriptions")
    else:
        params = {
            api: request.query[key]
            for key, api in FILTERS.items()
            if request.query.get(key, "").strip()
        }
        shown = (
            everything
            if not params
            else await _get(request, "bookings", path, person_id=person["id"], **params)
        )
        context["registrations"] = (shown or {"items": []})["items"]
        items = everything["items"]
        context["taken"] = _taken_choices(items)
        context["activities"] = sorted({(r["activity_id"], r["activity_name"]) for r in items})
        context["years"] = sorted({r["school_year"] for r in items}, reverse=True)
    catalogue = await _get(request, "bookings", "/catalogue")
    context["catalogue"] = [] if catalogue is None else catalogue["items"]
    choices = _split_catalogue(context["catalogue"], context["taken"], _birth_date(person))
    context["open_activities"] = choices.still_open
    context["taken_activities"] = choices.all_taken
    context["age_left_out"] = choices.not_for_age
    context["age_out"] = choices.age_out
    return await render(request, "bookings/inscriptions.html", context, status=status)


def _taken_choices(registrations: list[dict[str, Any]]) -> dict[str, str]:
    """`activity|period` → why the form cannot offer it (asked already, or registered)."""
    return {
        f"{r['activity_id']}|{r['period_id']}": TAKEN[r["state"]]
        for r in registrations
        if r["state"] in TAKEN
    }


def _birth_date(person: dict[str, Any]) -> date | None:
    """The person's birth date, or None when families has none (or hides it from the caller)."""
    try:
        return date.fromisoformat(str(person.get("birth_date") or ""))
    except ValueError:
        return None


def _fits_an_age_group(activity: dict[str, Any], period: dict[str, Any], born: date) -> bool:
    """Whether some group of the activity takes someone born on `born`, at the period's first
    day (both bounds included, as the service judges it)."""
    age = age_on(born, date.fromisoformat(period["starts_on"]))
    return any(g["min_age"] <= age <= g["max_age"] for g in activity.get("groups") or [])


def _age_range(activity: dict[str, Any]) -> dict[str, Any]:
    """An activity left out for age, with the ages it takes (as the service's refusal says)."""
    groups = activity.get("groups") or []
    return {
        "name": activity["name"],
        "low": min((g["min_age"] for g in groups), default=None),
        "high": max((g["max_age"] for g in groups), default=None),
    }


@dataclass
class RequestChoices:
    """What the request form offers a person, and what it says instead of offering."""

    still_open: list[dict[str, Any]] = field(default_factory=list)
    all_taken: list[str] = field(default_factory=list)
    not_for_age: list[dict[str, Any]] = field(default_factory=list)
    # `activity|period` of an activity still offered whose period is not for the person's age.
    age_out: dict[str, str] = field(default_factory=dict)


def _split_catalogue(
    catalogue: list[dict[str, Any]], taken: dict[str, str], born: date | None
) -> RequestChoices:
    """The activities with a period the person may still ask; those whose every period is
    asked or registered already, and those no group of which takes the person's age, are
    named instead (the page says so rather than offer a request the service would refuse).
    Without a birth date everything is offered: the service asks for it, and says so."""
    choices = RequestChoices()
    for activity in catalogue:
        periods = activity.get("periods") or []
        if not periods:
            continue
        for_age = [p for p in periods if born is None or _fits_an_age_group(activity, p, born)]
        if not for_age:
            choices.not_for_age.append(_age_range(activity))
        elif all(f"{activity['id']}|{p['id']}" in taken for p in for_age):
            choices.all_taken.append(activity["name"])
        else:
            choices.still_open.append(activity)
            choices.age_out.update(
                (f"{activity['id']}|{p['id']}", NOT_FOR_AGE) for p in periods if p not in for_age
            )
    return choices


def _back(family_id: str, person_id: str, **extra: str) -> str:
    return "/inscriptions?" + urlencode({"famille": family_id, "personne": person_id, **extra})


async def registrations_page(request: web.Request) -> web.StreamResponse:
    """GET /inscriptions: the family's members; a member's registrations; the request form."""
    identity = await require_signed_in(request)
    family_id = chosen_family(identity, request.query.get("famille"))
    notice = NOTICES.get(request.query.get("ok", ""))
    return await _family_page(
        request, identity, family_id, person_id=request.query.get("personne"), notice=notice
    )


async def request_registration(request: web.Request) -> web.StreamResponse:
    """POST /inscriptions/demande: ask bookings; its refusal is shown on the page."""
    identity = await require_signed_in(request)
    form = await request.post()
    family_id = chosen_family(identity, _field(form, "famille"))
    person_id = _field(form, "personne")
    activity_id, _, period_id = _field(form, "choix").partition("|")
    if family_id is None or not person_id:
        raise web.HTTPSeeOther("/inscriptions")
    if not activity_id or not period_id:
        return await _family_page(
            request, identity, family_id, person_id=person_id, status=422,
            error="Choisissez une activité et une période.",
        )  # fmt: skip
    body: dict[str, Any] = {
        "person_id": person_id,
        "activity_id": activity_id,
        "period_id": period_id,
    }
    reply = await call_service(
        request, "bookings", "POST", f"/families/{family_id}/registrations", json=body
    )
    if reply.ok:
        raise web.HTTPSeeOther(_back(family_id, person_id, ok="envoyee"))
    detail = problem_text(request, reply.data, "La demande n'a pas pu être enregistrée.")
    return await _family_page(
        request, identity, family_id, person_id=person_id, error=detail, status=reply.status,
        chosen=_field(form, "choix"),
    )  # fmt: skip


async def cancel_registration(request: web.Request) -> web.StreamResponse:
    """POST /inscriptions/{registration_id}/annuler."""
    identity = await require_signed_in(request)
    form = await request.post()
    family_id = chosen_family(identity, _field(form, "famille"))
    person_id = _field(form, "personne")
    if family_id is None:
        raise web.HTTPSeeOther("/inscriptions")
    registration_id = request.match_info["registration_id"]
    if not ID.match(registration_id):
        raise web.HTTPNotFound()
    reply = await call_service(
        request, "bookings", "POST",
        f"/families/{family_id}/registrations/{registration_id}/cancel",
    )  # fmt: skip
    if reply.ok:
        raise web.HTTPSeeOther(_back(family_id, person_id, ok="annulee"))
    detail = problem_text(request, reply.data, "L'inscription n'a pas pu être annulée.")
    return await _family_page(
        request, identity, family_id, person_id=person_id, error=detail, status=reply.status
    )


# --- staff -------------------------------------------------------------------------------


async def _queue_page(
    request: web.Request,
    *,
    activity_id: str = "",
    results: list[dict[str, Any]] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> web.Response:
    params = {"state": "requested", "limit": "200"}
    if ID.match(activity_id):
        params["activity_id"] = activity_id
    queue = await _get(request, "bookings", "/registrations", **params)
    activities = await _get(request, "bookings", "/activities")
    items = None if queue is None else queue["items"]
    context = {
        "queue": items,
        # Bookings knows a family by its id only: the agent deciding needs its name.
        "family_names": await family_names(request, (r["family_id"] for r in items or [])),
        "results": results or [],
        "notice": notice,
        "activities": [] if activities is None else activities["items"],
        "activity_id": params.get("activity_id", ""),
    }
    return await render(request, "bookings/agents.html", context, status=status)


async def staff_queue(request: web.Request) -> web.StreamResponse:
    """GET /agents/inscriptions: the requests waiting for a decision."""
    await require_staff_page(request)
    return await _queue_page(
        request, activity_id=request.query.get("activite", ""), notice=_decision_notice(request)
    )


def _decision_notice(request: web.Request) -> str | None:
    """The sentence of `?ok=` (a DECISION_NOTICES key), counted by `&n=` when it is sane."""
    sentences = DECISION_NOTICES.get(request.query.get("ok", ""))
    if sentences is None:
        return None
    count = request.query.get("n", "")
    many = int(count) if is_plain_number(count) and 0 < int(count) <= MAX_DECISIONS else 1
    return translator_of(request).plural(*sentences, many)


async def staff_decisions(request: web.Request) -> web.StreamResponse:
    """POST /agents/inscriptions/decisions: accept or refuse one request or a selection."""
    await require_staff_page(request)
    form = await request.post()
    activity_id = _field(form, "activite")
    ids = [str(value)[:MAX_FIELD] for value in form.getall("ids", [])][:MAX_DECISIONS]
    decision = _field(form, "decision")
    reason = str(form.get("motif", ""))[:500].strip() or None
    if not ids or decision not in ("accept", "refuse"):
        return await _queue_page(
            request, activity_id=activity_id, status=422,
            results=[{"ok": False, "detail": "Sélectionnez au moins une demande."}],
        )  # fmt: skip
    if decision == "refuse" and not reason:
        return await _queue_page(
            request, activity_id=activity_id, status=422,
            results=[{"ok": False, "detail": "Indiquez le motif du refus : la famille le lira."}],
        )  # fmt: skip
    decisions = [{"registration_id": i, "decision": decision, "reason": reason} for i in ids]
    reply = await call_service(
        request, "bookings", "POST", "/registrations/decisions", json={"decisions": decisions}
    )
    if not reply.ok:
        detail = problem_text(request, reply.data, "Les décisions n'ont pas pu être enregistrées.")
        return await _queue_page(
            request, activity_id=activity_id, results=[{"ok": False, "detail": detail}], status=422
        )
    results = reply.data["results"]
    if not all(r["ok"] for r in results):
        # Some were refused (decided meanwhile…): each one's answer is shown on the page.
        return await _queue_page(request, activity_id=activity_id, results=results)
    done = {"ok": "acceptees" if decision == "accept" else "refusees", "n": str(len(results))}
    if ID.match(activity_id):
        done["activite"] = activity_id
    raise web.HTTPSeeOther("/agents/inscriptions?" + urlencode(done))


def register(app: web.Application) -> None:
    """Add "Mes inscriptions" and the staff queue."""
    app.router.add_get("/inscriptions", registrations_page, name="inscriptions")
    app.router.add_post("/inscriptions/demande", request_registration)
    app.router.add_post("/inscriptions/{registration_id}/annuler", cancel_registration)
    app.router.add_get("/agents/inscriptions", staff_queue, name="agents_inscriptions")
    app.router.add_post("/agents/inscriptions/decisions", staff_decisions)
