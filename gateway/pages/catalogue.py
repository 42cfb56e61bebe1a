"""The catalogue's back office: activities (rules, groups, units), periods, openings.

Every rule lives in the bookings service: these pages turn forms into its JSON, call it as
the signed-in agent and show its answer. Its field errors (problem+json `errors`) are
technical English, so each is shown next to its form field as a French sentence from
`FIELD_MESSAGES`; its conflicts (`detail`) are French already and shown as they are.
Numbers, dates and times are sent as typed: the service, not this page, judges them.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from aiohttp import web
from multidict import MultiDict, MultiDictProxy

from services.kit.problems import BadGateway, NotFound

from ..calls import ServiceReply, call_service, fetch_json, problem_detail
from ..formats import formats_in
from ..i18n import translator_of
from ..numbers import is_plain_number
from ..paris_time import PARIS
from ..rendering import render
from ..session import require_staff_page
from .notifications import WEEKDAYS, Translate, when

# Ids go into service paths: nothing but an id's characters (no "..", no "/").
ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_FIELD = 200
Form = MultiDictProxy[Any] | MultiDict[Any]

VALIDATIONS = (("manual", "manuelle (un agent décide)"), ("automatic", "automatique"))
NOTICE_KINDS = (
    ("aucun", "Aucun délai : jusqu'au début de la journée"),
    ("jours", "Un nombre de jours avant, à une heure"),
    ("semaine", "Un jour de la semaine précédente, à une heure"),
)

# What each form field must hold, said when the service refuses what was typed there.
FIELD_MESSAGES = {
    "nom": "Indiquez un nom (120 caractères au plus).",
    "description": "La description tient en 2 000 caractères au plus.",
    "validation": "Choisissez une validation manuelle ou automatique.",
    "ajout": "Délai pour réserver incomplet : un nombre de jours de 0 à 90 ou un jour "
    "de la semaine, et une heure (HH:MM).",
    "annulation": "Délai pour annuler incomplet : un nombre de jours de 0 à 90 ou un jour "
    "de la semaine, et une heure (HH:MM).",
    "age_min": "Âge minimum : un nombre entier de 0 à 25.",
    "age_max": "Âge maximum : un nombre entier de 0 à 25, au moins égal à l'âge minimum.",
    "capacite": "Capacité : un nombre entier de 0 à 10 000, ou vide pour sans limite.",
    "code": "Code : lettres minuscules sans accent, chiffres et « _ », en commençant par "
    "une lettre (40 caractères au plus).",
    "libelle": "Indiquez un libellé (80 caractères au plus).",
    "heure_debut": "Heure de début : HH:MM, ou vide.",
    "heure_fin": "Heure de fin : HH:MM, après l'heure de début, ou vide.",
    "incompatibles": "Une unité ne peut pas être incompatible avec elle-même.",
    "annee": "Année scolaire : deux années qui se suivent, par exemple 2026-2027.",
    "debut": "Premier jour : une date valide.",
    "fin": "Dernier jour : une date valide, pas avant le premier jour, au plus 400 jours après.",
    "ouverture": "Ouverture des inscriptions : une date et une heure.",
    "fermeture": "Fermeture des inscriptions : une date et une heure, après l'ouverture.",
    "jours": "Cochez au moins un jour de la semaine.",
    "places": "Nombre de places : un nombre entier de 0 à 10 000.",
    "unites": "Cochez au moins une unité.",
    "groupes": "Cochez au moins un groupe.",
    "ferme_du": "Premier jour fermé : une date de la période.",
    "ferme_au": "Dernier jour fermé : une date de la période, pas avant le premier.",
    "motif": "Le motif tient en 200 caractères au plus.",
}
# The API's field names, as the forms name them.
API_FIELDS = {
    "name": "nom",
    "description": "description",
    "validation": "validation",
    "add_notice": "ajout",
    "cancel_notice": "annulation",
    "min_age": "age_min",
    "max_age": "age_max",
    "capacity": "capacite",
    "code": "code",
    "label": "libelle",
    "starts_at": "heure_debut",
    "ends_at": "heure_fin",
    "excludes": "incompatibles",
    "school_year": "annee",
    "starts_on": "debut",
    "ends_on": "fin",
    "registration_opens_at": "ouverture",
    "registration_closes_at": "fermeture",
    "weekdays": "jours",
    "reason": "motif",
}
# Errors on a whole object (no field named): recognised by the service's wording.
OBJECT_ERRORS = {
    "max_age must be at least min_age": "age_max",
    "ends_at must be after starts_at": "heure_fin",
    "a unit cannot exclude itself": "incompatibles",
    "ends_on must not be before starts_on": "fin",
    "a period lasts at most a school year": "fin",
    "the registration window must close after it opens": "fermeture",
}
SOME_FIELDS = "Certains champs sont à corriger : voir les messages à côté des champs."
NOTICES = {
    "activite": "L'activité est créée : ajoutez maintenant ses groupes et ses unités.",
    "enregistre": "Modifications enregistrées.",
    "groupe": "Groupe ajouté.",
    "unite": "Unité ajoutée.",
    "periode": "La période est créée : ouvrez maintenant ses jours.",
    "fenetre": "Fenêtre d'inscription enregistrée.",
    "periode-enregistree": "Période enregistrée.",
    "groupe-supprime": "Groupe supprimé.",
    "unite-supprimee": "Unité supprimée.",
    "periode-supprimee": "Période supprimée.",
    "fermeture-supprimee": "Jour de fermeture supprimé : la création en lot ne le saute plus.",
    "ouverture": "Ouverture enregistrée.",
    "fermeture": "Jours de fermeture enregistrés.",
}
# Said after a deletion's notice when `n` (from the service's answer) is above zero.
REMOVED_OPENINGS = (
    "Son ouverture sans réservation a été supprimée aussi.",
    "Ses {count} ouvertures sans réservation ont été supprimées aussi.",
)
STILL_CLOSED = (
    "{count} ouverture de ce jour reste fermée : rouvrez-la avec « Modifier ».",
    "{count} ouvertures de ce jour restent fermées : rouvrez-les une à une avec « Modifier ».",
)
COUNTED = {
    "groupe-supprime": REMOVED_OPENINGS,
    "unite-supprimee": REMOVED_OPENINGS,
    "periode-supprimee": REMOVED_OPENINGS,
    "fermeture-supprimee": STILL_CLOSED,
}
SECTIONS = {
    "regles": "Présentation et règles",
    "groupes": "Groupes d'âge",
    "unites": "Unités",
}
FORM_SECTIONS = {"regles": "regles", "groupe": "groupes", "unite": "unites"}


@dataclass
class FormState:
    """A refused form coming back: which form, what was typed, the French messages."""

    key: str = ""
    values: Form = field(default_factory=MultiDict)
    errors: dict[str, str] = field(default_factory=dict)
    general: str | None = None

    def value(self, key: str, name: str, default: Any = "") -> Any:
        """What the field shows: what was typed in this form, else the stored value."""
        if key == self.key and name in self.values:
            return self.values[name]
        return "" if default is None else default

    def checked(self, key: str, name: str, default: bool) -> bool:
        """A checkbox: as it was sent in this form, else as stored."""
        return name in self.values if key == self.key else default

    def chosen(self, key: str, name: str, value: str, default: list[str]) -> bool:
        """One of several checkboxes of the same name."""
        if key == self.key:
            return value in self.values.getall(name, [])
        return value in default

    def error(self, key: str, name: str) -> str | None:
        """The message next to a field of this form."""
        return self.errors.get(name) if key == self.key else None

    def alert(self, key: str) -> str | None:
        """The message above this form."""
        return self.general if key == self.key else None


def refusal(reply: ServiceReply, key: str, form: Form, fallback: str, **renamed: str) -> FormState:
    """The French messages of a refusal, by form field, and the one above the form.

    `renamed` names the form field of an API field when this form differs from `API_FIELDS`
    (an opening's `capacity` is its number of places, not a group's capacity).
    """
    data = reply.data if isinstance(reply.data, dict) else {}
    fields = {**API_FIELDS, **renamed}
    errors: dict[str, str] = {}
    for error in data.get("errors") or []:
        path, message = str(error.get("field", "")), str(error.get("message", ""))
        name = fields.get(path.split(".")[0]) or next(
            (name for text, name in OBJECT_ERRORS.items() if text in message), None
        )
        if name is not None:
            errors[name] = FIELD_MESSAGES[name]
    if errors:
        general = SOME_FIELDS
    elif reply.status in (404, 409):
        general = problem_detail(data, fallback)  # the service's own French sentence
    else:
        general = fallback  # the kit's 400/422 details are English, for API clients
    return FormState(key, form, errors, general)


def _text(form: Form, name: str, limit: int = MAX_FIELD) -> str:
    return str(form.get(name, ""))[:limit].strip()


def _optional(form: Form, name: str) -> str | None:
    return _text(form, name) or None


def _id(value: str) -> str:
    if not ID.match(value):
        raise NotFound("No such catalogue entry.")
    return value


async def _read(request: web.Request, path: str, **params: str) -> Any:
    """The service's JSON; its 404 is the page's 404, any other failure an error page."""
    reply = await call_service(request, "bookings", "GET", path, params=params or None)
    if reply.status == 404:
        raise NotFound("No such catalogue entry.")
    if not reply.ok:
        raise BadGateway("The bookings service answered with an error.")
    return reply.data


async def _send(request: web.Request, method: str, path: str, body: Any) -> ServiceReply:
    return await call_service(request, "bookings", method, path, json=body)


def _see(path: str, ok: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(f"{path}?ok={ok}")


def _notice(request: web.Request) -> str | None:
    """The notice of `?ok=` in the page's language, with its count (`&n=`) when it has one."""
    key = request.query.get("ok", "")
    if key not in NOTICES:
        return None
    _ = translator_of(request)
    said = _(NOTICES[key])
    count = request.query.get("n", "")
    if key in COUNTED and is_plain_number(count) and 0 < int(count) < 1_000_000:
        said += " " + _.plural(*COUNTED[key], int(count))
    return said


def day_label(value: str, _: Translate) -> str:
    """`mercredi 21/04/2027`, in the page's language."""
    return formats_in(getattr(_, "language", "fr")).weekday_date(value)


def local_input(value: str) -> str:
    """A UTC instant as a `datetime-local` field holds it (Paris time, to the minute)."""
    return f"{datetime.fromisoformat(value).astimezone(PARIS):%Y-%m-%dT%H:%M}"


def hhmm(value: str | None) -> str:
    """`08:30:00` as a `time` field holds it."""
    return (value or "")[:5]


def exclusions(units: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Which units each unit cannot be booked with the same day (read both ways).

    The API answers the direction stored on each unit; the service reads them both ways, so
    the page ticks both, and saving a unit's ticks replaces both (`PATCH /units`).
    """
    result: dict[str, set[str]] = {u["code"]: set() for u in units}
    for unit in units:
        for other in unit["excludes"]:
            result.setdefault(unit["code"], set()).add(other)
            result.setdefault(other, set()).add(unit["code"])
    return result


# --- activities ---------------------------------------------------------------------------


def notice_rule(form: Form, prefix: str) -> dict[str, Any] | None:
    """A notice rule from its fieldset (`ajout_…` or `annulation_…`); None: no rule."""
    kind = _text(form, f"{prefix}_type")
    rule: dict[str, Any]
    if kind == "jours":
        rule = {
            "kind": "days_before",
            "days": _text(form, f"{prefix}_jours"),
            "skip_weekends_and_holidays": f"{prefix}_ouvres" in form,
        }
    elif kind == "semaine":
        rule = {"kind": "weekday_before", "weekday": _text(form, f"{prefix}_jour")}
    else:
        return None
    at = _text(form, f"{prefix}_heure")
    if at:
        rule["at"] = at
    return rule


def activity_body(form: Form) -> dict[str, Any]:
    """The activity's presentation and booking rules, as the API takes them."""
    return {
        "name": _text(form, "nom", 200),
        "description": _text(form, "description", 2100),
        "validation": _text(form, "validation"),
        "waiting_list": "liste_attente" in form,
        "documents_required": "documents" in form,
        "add_notice": notice_rule(form, "ajout"),
        "cancel_notice": notice_rule(form, "annulation"),
    }


def group_body(form: Form) -> dict[str, Any]:
    """A group's name, ages and capacity (blank: no limit)."""
    return {
        "name": _text(form, "nom"),
        "min_age": _text(form, "age_min"),
        "max_age": _text(form, "age_max"),
        "capacity": _optional(form, "capacite"),
    }


def unit_body(form: Form, *, new: bool) -> dict[str, Any]:
    """A unit's label, times and incompatibilities (+ its code when new)."""
    body: dict[str, Any] = {
        "label": _text(form, "libelle"),
        "starts_at": _optional(form, "heure_debut"),
        "ends_at": _optional(form, "heure_fin"),
        "excludes": [str(code)[:40] for code in form.getall("incompatibles", [])][:20],
    }
    if new:
        body["code"] = _text(form, "code")
    return body


async def activities_page(request: web.Request) -> web.StreamResponse:
    """GET /agents/activites: every activity, with its groups, units and rules in short."""
    await require_staff_page(request)
    listed = await fetch_json(request, "bookings", "/activities")
    context = {
        "activities": None if listed is None else listed["items"],
        "validations": dict(VALIDATIONS),
    }
    return await render(request, "catalogue/activities.html", context)


async def new_activity(request: web.Request) -> web.StreamResponse:
    """GET/POST /agents/activites/nouvelle: name and rules; groups and units come next."""
    await require_staff_page(request)
    state = FormState()
    status = 200
    if request.method == "POST":
        form = await request.post()
        reply = await _send(request, "POST", "/activities", activity_body(form))
        if reply.ok:
            raise _see(f"/agents/activites/{reply.data['id']}", "activite")
        state = refusal(reply, "regles", form, "L'activité n'a pas pu être créée.")
        status = reply.status
    return await render(
        request, "catalogue/new_activity.html", _activity_context(None, state), status=status
    )


def _activity_context(activity: dict[str, Any] | None, state: FormState) -> dict[str, Any]:
    return {
        "activity": activity,
        "state": state,
        "validations": VALIDATIONS,
        "notice_kinds": NOTICE_KINDS,
        "weekdays": list(enumerate(WEEKDAYS)),
        "hhmm": hhmm,
    }


async def _activity_page(
    request: web.Request, activity_id: str, state: FormState | None = None, status: int = 200
) -> web.Response:
    activity, periods = await asyncio.gather(
        _read(request, f"/activities/{activity_id}"),
        _read(request, f"/activities/{activity_id}/periods"),
    )
    context = _activity_context(activity, state or FormState())
    context.update(
        {
            "periods": periods["items"],
            "exclusions": exclusions(activity["units"]),
            "notice": _notice(request) if status == 200 else None,
            "sections": SECTIONS,
            # The section of the refused form, named at the top: the form may be far below.
            "failed": FORM_SECTIONS.get(state.key.split("-")[0]) if state else None,
            "when": when,
        }
    )
    return await render(request, "catalogue/activity.html", context, status=status)


async def activity_page(request: web.Request) -> web.StreamResponse:
    """GET /agents/activites/{activity_id}: one page, a section per part of the activity."""
    await require_staff_page(request)
    return await _activity_page(request, _id(request.match_info["activity_id"]))


async def save_activity(request: web.Request) -> web.StreamResponse:
    """POST /agents/activites/{activity_id}: presentation and booking rules."""
    await require_staff_page(request)
    activity_id = _id(request.match_info["activity_id"])
    form = await request.post()
    reply = await _send(request, "PATCH", f"/activities/{activity_id}", activity_body(form))
    return await _after(request, activity_id, reply, "regles", form)


async def _after(
    request: web.Request, activity_id: str, reply: ServiceReply, key: str, form: Form, ok: str = ""
) -> web.StreamResponse:
    """Back to the activity's page: with a notice, or with the refused form as typed."""
    if reply.ok:
        raise _see(f"/agents/activites/{activity_id}", ok or "enregistre")
    if reply.status == 404:
        raise NotFound("No such catalogue entry.")
    state = refusal(reply, key, form, "La modification n'a pas été enregistrée.")
    return await _activity_page(request, activity_id, state, status=reply.status)


async def add_group(request: web.Request) -> web.StreamResponse:
    """POST /agents/activites/{activity_id}/groupes."""
    await require_staff_page(request)
    activity_id = _id(request.match_info["activity_id"])
    form = await request.post()
    path = f"/activities/{activity_id}/groups"
    reply = await _send(request, "POST", path, group_body(form))
    return await _after(request, activity_id, reply, "groupe-nouveau", form, ok="groupe")


async def save_group(request: web.Request) -> web.StreamResponse:
    """POST /agents/activites/{activity_id}/groupes/{group_id}: name, ages, capacity."""
    await require_staff_page(request)
    activity_id = _id(request.match_info["activity_id"])
    group_id = _id(request.match_info["group_id"])
    activity = await _read(request, f"/activities/{activity_id}")
    if group_id not in {g["id"] for g in activity["groups"]}:
        raise NotFound("This group is not one of the activity's.")
    form = await request.post()
    reply = await _send(request, "PATCH", f"/groups/{group_id}", group_body(form))
    return await _after(request, activity_id, reply, f"groupe-{group_id}", form)


async def add_unit(request: web.Request) -> web.StreamResponse:
    """POST /agents/activites/{activity_id}/unites."""
    await require_staff_page(request)
    activity_id = _id(request.match_info["activity_id"])
    form = await request.post()
    path = f"/activities/{activity_id}/units"
    reply = await _send(request, "POST", path, unit_body(form, new=True))
    return await _after(request, activity_id, reply, "unite-nouvelle", form, ok="unite")


async def save_unit(request: web.Request) -> web.StreamResponse:
    """POST /agents/activites/{activity_id}/unites/{unit_id}: label, times, incompatibilities."""
    await require_staff_page(request)
    activity_id = _id(request.match_info["activity_id"])
    unit_id = _id(request.match_info["unit_id"])
    activity = await _read(request, f"/activities/{activity_id}")
    if unit_id not in {u["id"] for u in activity["units"]}:
        raise NotFound("This unit is not one of the activity's.")
    form = await request.post()
    reply = await _send(request, "PATCH", f"/units/{unit_id}", unit_body(form, new=False))
    return await _after(request, activity_id, reply, f"unite-{unit_id}", form)


# --- periods ------------------------------------------------------------------------------


def period_body(form: Form) -> dict[str, Any]:
    """A new period and its registration window (Paris time, as typed)."""
    return {
        "name": _text(form, "nom"),
        "school_year": _text(form, "annee"),
        "starts_on": _text(form, "debut"),
        "ends_on": _text(form, "fin"),
        **window_body(form),
    }


# A period's editable fields: form name → API name. Only those sent are changed.
PERIOD_EDITS = {
    "nom": "name",
    "debut": "starts_on",
    "fin": "ends_on",
    "ouverture": "registration_opens_at",
    "fermeture": "registration_closes_at",
}


def period_edit_body(form: Form) -> dict[str, Any]:
    """The period's name, dates and window as typed (Paris time), for `PATCH /periods`."""
    return {api: _text(form, name) for name, api in PERIOD_EDITS.items() if name in form}


def window_body(form: Form) -> dict[str, Any]:
    """A registration window; a time without zone is Paris time for the service."""
    return {
        "registration_opens_at": _text(form, "ouverture"),
        "registration_closes_at": _text(form, "fermeture"),
    }


async def _periods_page(
    request: web.Request, state: FormState | None = None, status: int = 200
) -> web.Response:
    listed = await fetch_json(request, "bookings", "/activities")
    activities = [] if listed is None else listed["items"]
    periods = await asyncio.gather(
        *(fetch_json(request, "bookings", f"/activities/{a['id']}/periods") for a in activities)
    )
    rows = [
        (activity, period)
        for activity, answer in zip(activities, periods, strict=True)
        for period in (answer or {"items": []})["items"]
    ]
    state = state or FormState()
    chosen = state.value("periode-nouvelle", "activite", request.query.get("activite", ""))
    context = {
        "unavailable": listed is None or any(p is None for p in periods),
        "activities": activities,
        "rows": rows,
        "state": state,
        "chosen": chosen,
        "notice": _notice(request) if status == 200 else None,
        "when": when,
        "day_label": day_label,
    }
    return await render(request, "catalogue/periods.html", context, status=status)


async def periods_page(request: web.Request) -> web.StreamResponse:
    """GET /agents/periodes: every activity's periods, and the form for a new one."""
    await require_staff_page(request)
    return await _periods_page(request)


async def create_period(request: web.Request) -> web.StreamResponse:
    """POST /agents/periodes: a period of the chosen activity, then its openings' page."""
    await require_staff_page(request)
    form = await request.post()
    activity_id = _text(form, "activite")
    if not ID.match(activity_id):
        state = FormState("periode-nouvelle", form, general="Choisissez l'activité.")
        return await _periods_page(request, state, status=422)
    reply = await _send(request, "POST", f"/activities/{activity_id}/periods", period_body(form))
    if reply.ok:
        raise _see(f"/agents/periodes/{activity_id}/{reply.data['id']}/ouvertures", "periode")
    state = refusal(reply, "periode-nouvelle", form, "La période n'a pas pu être créée.")
    return await _periods_page(request, state, status=reply.status)


async def _period_of(request: web.Request) -> tuple[dict[str, Any], dict[str, Any]]:
    """The activity and period of the path; a period of another activity is a 404."""
    activity_id = _id(request.match_info["activity_id"])
    period_id = _id(request.match_info["period_id"])
    activity, periods = await asyncio.gather(
        _read(request, f"/activities/{activity_id}"),
        _read(request, f"/activities/{activity_id}/periods"),
    )
    period = next((p for p in periods["items"] if p["id"] == period_id), None)
    if period is None:
        raise NotFound("This period is not one of the activity's.")
    return activity, period


async def period_page(request: web.Request) -> web.StreamResponse:
    """GET/POST /agents/periodes/{activity_id}/{period_id}: name, dates, registration window."""
    await require_staff_page(request)
    activity, period = await _period_of(request)
    state, status = FormState(), 200
    if request.method == "POST":
        form = await request.post()
        reply = await _send(request, "PATCH", f"/periods/{period['id']}", period_edit_body(form))
        if reply.ok:
            raise _see("/agents/periodes", "periode-enregistree")
        state = refusal(reply, "periode", form, "La période n'a pas été enregistrée.")
        status = reply.status
    context = {
        "activity": activity,
        "period": period,
        "state": state,
        "local_input": local_input,
        "day_label": day_label,
    }
    return await render(request, "catalogue/period.html", context, status=status)


# --- openings -----------------------------------------------------------------------------


def _months(period: dict[str, Any]) -> list[str]:
    first, last = date.fromisoformat(period["starts_on"]), date.fromisoformat(period["ends_on"])
    months, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _shown_month(period: dict[str, Any], asked: str | None) -> str:
    """The month asked for if the period has it; else today's, else the period's first."""
    months = _months(period)
    today = f"{datetime.now(PARIS):%Y-%m}"
    return asked if asked in months else (today if today in months else months[0])


def month_label(value: str, _: Translate) -> str:
    """`avril 2027`, in the page's language."""
    year, month = value.split("-")
    return formats_in(getattr(_, "language", "fr")).month(int(year), int(month))


def bulk_body(form: Form) -> dict[str, Any]:
    """A bulk creation: chosen weekdays, units and groups over the chosen days of the period."""
    return {
        "capacity": _text(form, "places"),
        "weekdays": [str(d)[:1] for d in form.getall("jours", [])][:7],
        "units": [str(code)[:40] for code in form.getall("unites", [])][:20],
        "groups": [str(name)[:80] for name in form.getall("groupes", [])][:20],
        "starts_on": _optional(form, "debut"),
        "ends_on": _optional(form, "fin"),
    }


async def _openings_page(
    request: web.Request,
    activity: dict[str, Any],
    period: dict[str, Any],
    *,
    month: str | None,
    state: FormState | None = None,
    result: dict[str, Any] | None = None,
    status: int = 200,
) -> web.Response:
    shown = _shown_month(period, month)
    listed, closures = await asyncio.gather(
        fetch_json(
            request, "bookings", "/openings",
            activity_id=activity["id"], period_id=period["id"],
            starts_on=f"{shown}-01", ends_on=_last_day(shown),
        ),
        fetch_json(request, "bookings", f"/activities/{activity['id']}/closures"),
    )  # fmt: skip
    in_period = [
        c
        for c in (closures or {"items": []})["items"]
        if period["starts_on"] <= c["day"] <= period["ends_on"]
    ]
    context = {
        "activity": activity,
        "period": period,
        "openings": None if listed is None else listed["items"],
        "closures": None if closures is None else in_period,
        "labels": {u["code"]: u["label"] for u in activity["units"]},
        "months": _months(period),
        "month": shown,
        "state": state or FormState(),
        "result": result,
        "weekdays": list(enumerate(WEEKDAYS)),
        "notice": _notice(request) if status == 200 and result is None else None,
        "day_label": day_label,
        "month_label": month_label,
        "when": when,
    }
    return await render(request, "catalogue/openings.html", context, status=status)


def _last_day(month: str) -> str:
    year, number = (int(part) for part in month.split("-"))
    following = date(year + 1, 1, 1) if number == 12 else date(year, number + 1, 1)
    return date.fromordinal(following.toordinal() - 1).isoformat()


async def openings_page(request: web.Request) -> web.StreamResponse:
    """GET /agents/periodes/{activity_id}/{period_id}/ouvertures: a month of openings."""
    await require_staff_page(request)
    activity, period = await _period_of(request)
    return await _openings_page(request, activity, period, month=request.query.get("mois"))


async def create_openings(request: web.Request) -> web.StreamResponse:
    """POST …/ouvertures: the bulk creation; the page says how many were made and skipped."""
    await require_staff_page(request)
    activity, period = await _period_of(request)
    form = await request.post()
    body = bulk_body(form)
    missing = {
        name: FIELD_MESSAGES[name]
        for name, chosen in (("unites", body["units"]), ("groupes", body["groups"]))
        if not chosen
    }
    if missing:  # nothing would be made: say which choice is empty instead
        state = FormState("lot", form, missing, SOME_FIELDS)
        return await _openings_page(request, activity, period, month=None, state=state, status=422)
    reply = await _send(request, "POST", f"/periods/{period['id']}/openings", body)
    if not reply.ok:
        state = refusal(
            reply, "lot", form, "Les ouvertures n'ont pas été créées.", capacity="places"
        )
        return await _openings_page(
            request, activity, period, month=None, state=state, status=reply.status
        )
    month = (body["starts_on"] or period["starts_on"])[:7]
    return await _openings_page(request, activity, period, month=month, result=reply.data)


def closed_days(form: Form, period: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    """The days from `ferme_du` to `ferme_au` (or that one day), within the period.

    The API takes a list of days; staff think in ranges ("du 2 au 4 mai"), so the range is
    expanded here, and only here is a date judged by this page.
    """
    period_days = (date.fromisoformat(period["starts_on"]), date.fromisoformat(period["ends_on"]))
    try:
        first = date.fromisoformat(_text(form, "ferme_du"))
    except ValueError:
        return [], {"ferme_du": FIELD_MESSAGES["ferme_du"]}
    try:
        last = date.fromisoformat(_text(form, "ferme_au") or first.isoformat())
    except ValueError:
        return [], {"ferme_au": FIELD_MESSAGES["ferme_au"]}
    if not period_days[0] <= first <= period_days[1]:
        return [], {"ferme_du": FIELD_MESSAGES["ferme_du"]}
    if not first <= last <= period_days[1]:
        return [], {"ferme_au": FIELD_MESSAGES["ferme_au"]}
    count = (last - first).days + 1
    return [date.fromordinal(first.toordinal() + i).isoformat() for i in range(count)], {}


async def add_closures(request: web.Request) -> web.StreamResponse:
    """POST …/fermetures: closed days of the activity within this period (bulk skips them)."""
    await require_staff_page(request)
    activity, period = await _period_of(request)
    form = await request.post()
    days, errors = closed_days(form, period)
    back = f"/agents/periodes/{activity['id']}/{period['id']}/ouvertures"
    if errors:
        state = FormState("fermeture", form, errors, SOME_FIELDS)
        return await _openings_page(request, activity, period, month=None, state=state, status=422)
    body = {"days": days, "reason": _text(form, "motif", 300)}
    reply = await _send(request, "POST", f"/activities/{activity['id']}/closures", body)
    if reply.ok:
        raise web.HTTPSeeOther(f"{back}?mois={days[0][:7]}&ok=fermeture")
    state = refusal(reply, "fermeture", form, "Les jours de fermeture n'ont pas été enregistrés.")
    return await _openings_page(
        request, activity, period, month=None, state=state, status=reply.status
    )


async def opening_page(request: web.Request) -> web.StreamResponse:
    """GET/POST …/ouvertures/{opening_id}: one opening's capacity, or close it."""
    await require_staff_page(request)
    activity, period = await _period_of(request)
    opening = await _read(request, f"/openings/{_id(request.match_info['opening_id'])}")
    if opening["period_id"] != period["id"]:
        raise NotFound("This opening is not one of the period's.")
    back = f"/agents/periodes/{activity['id']}/{period['id']}/ouvertures"
    state, status = FormState(), 200
    if request.method == "POST":
        form = await request.post()
        body = {"capacity": _text(form, "places"), "closed": "fermee" in form}
        reply = await _send(request, "PATCH", f"/openings/{opening['id']}", body)
        if reply.ok:
            raise web.HTTPSeeOther(f"{back}?mois={opening['day'][:7]}&ok=ouverture")
        state = refusal(
            reply, "ouverture", form, "L'ouverture n'a pas été enregistrée.", capacity="places"
        )
        status = reply.status
    context = {
        "activity": activity,
        "period": period,
        "opening": opening,
        "unit_label": {u["code"]: u["label"] for u in activity["units"]}.get(
            opening["unit_code"], opening["unit_code"]
        ),
        "back": f"{back}?mois={opening['day'][:7]}",
        "state": state,
        "day_label": day_label,
    }
    return await render(request, "catalogue/opening.html", context, status=status)


# --- deletions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Deletion:
    """What a « Supprimer » button deletes, and what its confirmation page says."""

    question: str  # with {name}
    consequence: str
    api_path: str
    back: str  # the page to go back to, where the notice is shown
    done: str  # the NOTICES key


async def _confirm_deletion(request: web.Request, deletion: Deletion, name: str) -> web.Response:
    """POST without `confirme`: the question; with it: the deletion, or the service's refusal.

    The first POST only shows the confirmation page (nothing is deleted by one click);
    the service judges what may go and says why not, in French.
    """
    form = await request.post()
    refused, status = None, 200
    if form.get("confirme") == "oui":
        reply = await _send(request, "DELETE", deletion.api_path, None)
        if reply.ok:
            data = reply.data if isinstance(reply.data, dict) else {}
            count = data.get("openings_removed", data.get("closed_openings", 0))
            separator = "&" if "?" in deletion.back else "?"
            raise web.HTTPSeeOther(f"{deletion.back}{separator}ok={deletion.done}&n={count}")
        failed = "La suppression n'a pas abouti."
        if reply.status in (404, 409):  # the service's own French sentence
            data = reply.data if isinstance(reply.data, dict) else {}
            refused, status = problem_detail(data, failed), reply.status
        else:  # other details are English, for API clients
            refused, status = failed, reply.status if reply.status < 500 else 502
    context = {"deletion": deletion, "name": name, "refused": refused, "action": request.path}
    return await render(request, "catalogue/confirm_delete.html", context, status=status)


async def delete_group(request: web.Request) -> web.StreamResponse:
    """POST /agents/activites/{activity_id}/groupes/{group_id}/supprimer."""
    await require_staff_page(request)
    activity_id = _id(request.match_info["activity_id"])
    group_id = _id(request.match_info["group_id"])
    activity = await _read(request, f"/activities/{activity_id}")
    group = next((g for g in activity["groups"] if g["id"] == group_id), None)
    if group is None:
        raise NotFound("This group is not one of the activity's.")
    deletion = Deletion(
        "Supprimer le groupe « {name} » ?",
        "Le groupe et ses ouvertures sans réservation seront supprimés, définitivement. "
        "Un groupe qui a des inscriptions ou des réservations ne peut pas l'être.",
        f"/groups/{group_id}",
        f"/agents/activites/{activity_id}",
        "groupe-supprime",
    )
    return await _confirm_deletion(request, deletion, group["name"])


async def delete_unit(request: web.Request) -> web.StreamResponse:
    """POST /agents/activites/{activity_id}/unites/{unit_id}/supprimer."""
    await require_staff_page(request)
    activity_id = _id(request.match_info["activity_id"])
    unit_id = _id(request.match_info["unit_id"])
    activity = await _read(request, f"/activities/{activity_id}")
    unit = next((u for u in activity["units"] if u["id"] == unit_id), None)
    if unit is None:
        raise NotFound("This unit is not one of the activity's.")
    deletion = Deletion(
        "Supprimer l'unité « {name} » ?",
        "L'unité et ses ouvertures sans réservation seront supprimées, définitivement ; "
        "les autres unités cesseront d'être incompatibles avec elle. Une unité qui a des "
        "réservations ne peut pas l'être.",
        f"/units/{unit_id}",
        f"/agents/activites/{activity_id}",
        "unite-supprimee",
    )
    return await _confirm_deletion(request, deletion, unit["label"])


async def delete_period(request: web.Request) -> web.StreamResponse:
    """POST /agents/periodes/{activity_id}/{period_id}/supprimer."""
    await require_staff_page(request)
    _activity, period = await _period_of(request)
    deletion = Deletion(
        "Supprimer la période « {name} » ?",
        "La période et ses ouvertures sans réservation seront supprimées, définitivement. "
        "Une période qui a des inscriptions ou des réservations ne peut pas l'être.",
        f"/periods/{period['id']}",
        "/agents/periodes",
        "periode-supprimee",
    )
    return await _confirm_deletion(request, deletion, period["name"])


async def delete_closure(request: web.Request) -> web.StreamResponse:
    """POST …/fermetures/{closure_id}/supprimer: a closed day of the activity, opened again."""
    await require_staff_page(request)
    activity, period = await _period_of(request)
    closure_id = _id(request.match_info["closure_id"])
    closures = await _read(request, f"/activities/{activity['id']}/closures")
    closure = next((c for c in closures["items"] if c["id"] == closure_id), None)
    if closure is None:
        raise NotFound("This closed day is not one of the activity's.")
    openings = f"/agents/periodes/{activity['id']}/{period['id']}/ouvertures"
    deletion = Deletion(
        "Supprimer le jour de fermeture du {name} ?",
        "La création en lot ne sautera plus ce jour. Les ouvertures déjà fermées ce jour-là "
        "restent fermées, et les réservations annulées par la fermeture ne sont pas rétablies.",
        f"/closures/{closure_id}",
        f"{openings}?mois={closure['day'][:7]}",
        "fermeture-supprimee",
    )
    return await _confirm_deletion(
        request, deletion, day_label(closure["day"], translator_of(request))
    )


def register(app: web.Application) -> None:
    """Add the catalogue's back office: activities, periods, openings."""
    app.router.add_get("/agents/activites", activities_page, name="agents_activites")
    app.router.add_get("/agents/activites/nouvelle", new_activity)
    app.router.add_post("/agents/activites/nouvelle", new_activity)
    app.router.add_get("/agents/activites/{activity_id}", activity_page)
    app.router.add_post("/agents/activites/{activity_id}", save_activity)
    app.router.add_post("/agents/activites/{activity_id}/groupes", add_group)
    app.router.add_post("/agents/activites/{activity_id}/groupes/{group_id}", save_group)
    app.router.add_post("/agents/activites/{activity_id}/unites", add_unit)
    app.router.add_post("/agents/activites/{activity_id}/unites/{unit_id}", save_unit)
    app.router.add_post(
        "/agents/activites/{activity_id}/groupes/{group_id}/supprimer", delete_group
    )
    app.router.add_post("/agents/activites/{activity_id}/unites/{unit_id}/supprimer", delete_unit)
    app.router.add_get("/agents/periodes", periods_page, name="agents_periodes")
    app.router.add_post("/agents/periodes", create_period)
    app.router.add_get("/agents/periodes/{activity_id}/{period_id}", period_page)
    app.router.add_post("/agents/periodes/{activity_id}/{period_id}", period_page)
    app.router.add_post("/agents/periodes/{activity_id}/{period_id}/supprimer", delete_period)
    base = "/agents/periodes/{activity_id}/{period_id}/ouvertures"
    app.router.add_get(base, openings_page)
    app.router.add_post(base, create_openings)
    app.router.add_post("/agents/periodes/{activity_id}/{period_id}/fermetures", add_closures)
    app.router.add_post(
        "/agents/periodes/{activity_id}/{period_id}/fermetures/{closure_id}/supprimer",
        delete_closure,
    )
    app.router.add_get(base + "/{opening_id}", opening_page)
    app.router.add_post(base + "/{opening_id}", opening_page)
