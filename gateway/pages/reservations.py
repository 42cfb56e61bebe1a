""" "Mes réservations" (`/reservations`) and the staff lists (`/agents/reservations`).

The planning is a plain form: a checkbox per cell that may change (book a free cell, cancel
a booked one), ANNULER is the form's reset and ENREGISTRER its submit, so it works without
JavaScript; `reservations.js` only counts the unsaved changes. Every rule is the bookings
service's: the page sends the ticked cells and shows each change's result as it comes back.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import secrets
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import structlog
from aiohttp import web
from pydantic import TypeAdapter, ValidationError

from services.bookings.schemas_reservations import RESERVATION_LABELS
from services.families.schemas import MAX_FAMILY_NAMES, Id
from services.kit.identity import Identity
from services.kit.problems import Problem

from .. import session_stash
from ..calls import call_service, chosen_family, family_names
from ..formats import formats_of
from ..i18n import translator_of
from ..keys import GATEWAY_SETTINGS
from ..numbers import is_plain_number
from ..paris_time import paris_today
from ..rendering import render
from ..service_messages import change_result_label, message_text, problem_text
from ..session import require_signed_in, require_staff_page

log = structlog.get_logger(__name__)

ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_FAMILY_ID: TypeAdapter[str] = TypeAdapter(Id)
MAX_FIELD = 200
MAX_TICKS = 400


def _field(form: Any, name: str) -> str:
    return str(form.get(name, ""))[:MAX_FIELD].strip()


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


# A repetition covers a year at most (the bookings service's RepeatRequest).
REPEAT_DAYS = 370
REPEAT_TOO_FAR = (
    "Une répétition couvre un an au plus : choisissez une date de fin jusqu'au {latest}."
)

# How far from today the planning goes: a year mistyped in « Aller à la date » (0001, 9999)
# is said, not sent — the calendar's ends made the page's own week arithmetic fail (500).
PLANNING_YEARS = 10
BAD_WEEK = "Cette date n'est pas valable : choisissez un jour entre {first} et {last}."


def _week_asked(request: web.Request, value: str | None) -> tuple[date | None, str | None]:
    """The day asked for in `semaine`, or (None, the page's sentence) for one it cannot show."""
    if not value:
        return None, None
    today = paris_today()
    first = today.replace(year=today.year - PLANNING_YEARS, month=1, day=1)
    last = today.replace(year=today.year + PLANNING_YEARS, month=12, day=31)
    day = _day(value)
    if day is not None and first <= day <= last:
        return day, None
    shown = formats_of(request).date_text
    return None, translator_of(request)(BAD_WEEK, first=shown(first), last=shown(last))


async def _get(request: web.Request, service: str, path: str, **params: str) -> Any:
    try:
        reply = await call_service(request, service, "GET", path, params=params or None)
    except Problem:
        return None
    return reply.data if reply.ok else None


async def _page(
    request: web.Request,
    identity: Identity,
    *,
    family_id: str | None,
    person_id: str | None,
    week: date | None,
    view: str,
    results: list[dict[str, Any]] | None = None,
    error: str | None = None,
    notice: str | None = None,
    status: int = 200,
) -> web.Response:
    context: dict[str, Any] = {
        "family_id": family_id,
        "persons": [],
        "person": None,
        "planning": None,
        "results": [_with_day_label(request, r) for r in results or []],
        # The template shows these as they are: translated here (the gateway's own sentences
        # and the service's, see service_messages.py).
        "error": message_text(request, error) if error else None,
        "notice": message_text(request, notice) if notice else None,
        "view": view,
        "week": week,
        "unavailable": False,
        "idempotency_key": secrets.token_urlsafe(16),
    }
    if family_id is None:
        return await render(request, "bookings/reservations.html", context, status=status)
    registrations = await _get(
        request, "bookings", f"/families/{family_id}/registrations", state="accepted"
    )
    if registrations is None:
        context["unavailable"] = True
        return await render(request, "bookings/reservations.html", context, status=status)
    persons: dict[str, str] = {}
    for r in registrations["items"]:
        persons.setdefault(r["person_id"], r["person_name"] or "—")
    context["persons"] = sorted(persons.items(), key=lambda p: p[1])
    if person_id not in persons:
        return await render(request, "bookings/reservations.html", context, status=status)
    context["person"] = (person_id, persons[person_id])
    params = {"view": "month" if view == "mois" else "week"}
    if week:
        params["starts_on"] = week.isoformat()
    planning = await _get(
        request, "bookings", f"/families/{family_id}/persons/{person_id}/planning", **params
    )
    if planning is None:
        context["unavailable"] = True
    else:
        first = date.fromisoformat(planning["starts_on"])
        context["planning"] = planning
        context["first_day"] = _day_shown(request, planning["starts_on"], weekday=False)
        context["last_day"] = _day_shown(request, planning["ends_on"], weekday=False)
        context["day_labels"] = [_day_shown(request, d, year=False) for d in planning["days"]]
        context["week"] = first
        context["previous"] = (first - timedelta(days=7 if view != "mois" else 1)).isoformat()
        following = date.fromisoformat(planning["ends_on"]) + timedelta(days=1)
        context["next"] = following.isoformat()
        context["last_week"] = (first - timedelta(days=7)).isoformat()
        context["today"] = paris_today().isoformat()
        # The week's and the month's list of days on a phone (their grid is hidden there).
        context["phone_days"] = [
            _phone_days(planning["days"], a["rows"], context["today"])
            for a in planning["activities"]
        ]
    return await render(request, "bookings/reservations.html", context, status=status)


Quiet = tuple[str, str, str | None]


def _phone_days(days: list[str], rows: list[dict[str, Any]], today: str) -> list[dict[str, Any]]:
    """An activity's week or month as a phone lists it, a day under another:
    `{"day", "index"}` for a day shown with each unit (a box to tick, a reservation, an opening
    still to come, today), `{"first", "last", "state", "label", "reason"}` for a run of days
    with nothing to tick nor read, said in one line (« Du … au … — hors période ») instead of a
    block of identical cells per day: the weekends and days out of the period, the past days
    left empty."""
    entries: list[dict[str, Any]] = []
    for index, day in enumerate(days):
        quiet = _quiet_day([row["cells"][index] for row in rows], day, today)
        last = entries[-1] if entries else None
        if quiet is None:
            entries.append({"day": day, "index": index})
        elif last is not None and last.get("quiet") == quiet:
            last["last"] = day
        else:
            state, label, reason = quiet
            entries.append({"day": None, "quiet": quiet, "first": day, "last": day,
                            "state": state, "label": label, "reason": reason})  # fmt: skip
    return entries


def _quiet_day(cells: list[dict[str, Any]], day: str, today: str) -> Quiet | None:
    """The state, label and reason every unit shares on a day with nothing to do nor to read
    (no box, nothing booked, and no opening — or an opening already past); None otherwise.
    Today is never quiet: the phone's « Aujourd'hui » link leads to its heading."""
    if day == today or not cells:
        return None
    if any(c["bookable"] or c["cancellable"] or c["kind"] != "possible" for c in cells):
        return None
    opened = any(c.get("opening_id") for c in cells)
    if opened and day > today:
        return None
    # A past opening's reason names its own deadline: the run keeps none of them.
    shared = {(c["state"], c["label"], None if opened else c.get("locked_reason")) for c in cells}
    return shared.pop() if len(shared) == 1 else None


def _day_shown(request: web.Request, value: str | date, *, weekday: bool = True,
               year: bool = True) -> str:  # fmt: skip
    """A day as the page's language writes it: "mer. 21/04/2027" (French) or
    "Wed 21 Apr 2027" (English), "mer. 21/04" / "Wed 21 Apr" without year, "21/04/2027" /
    "21 April 2027" without weekday. The one place the reservations pages write a day."""
    formats = formats_of(request)
    return formats.short_day(value, year=year) if weekday else formats.date_text(value)


def _with_day_label(request: web.Request, result: dict[str, Any]) -> dict[str, Any]:
    """A change's result with its day as "mer. 09/12/2026" instead of the service's ISO date,
    and its label in the page's language."""
    result = {**result, "label": change_result_label(request, result)}
    day = _day(result.get("day"))
    if day is None:
        return result
    return {**result, "day": _day_shown(request, day)}


def _back(family_id: str, person_id: str, week: date | None, view: str) -> dict[str, Any]:
    return {"family_id": family_id, "person_id": person_id, "week": week, "view": view}


async def reservations_page(request: web.Request) -> web.StreamResponse:
    """GET /reservations: the members taking part; a member's planning."""
    identity = await require_signed_in(request)
    family_id = chosen_family(identity, request.query.get("famille"))
    view = "mois" if request.query.get("vue") == "mois" else "semaine"
    notice = "Le lien de calendrier a été révoqué." if "revoque" in request.query else None
    week, bad_week = _week_asked(request, request.query.get("semaine"))
    return await _page(
        request, identity, family_id=family_id, person_id=request.query.get("personne"),
        week=week, view=view, notice=notice, error=bad_week, status=400 if bad_week else 200,
    )  # fmt: skip


async def save_reservations(request: web.Request) -> web.StreamResponse:
    """POST /reservations/enregistrer: the ticked cells, each change's result shown."""
    identity = await require_signed_in(request)
    form = await request.post()
    family_id = chosen_family(identity, _field(form, "famille"))
    person_id = _field(form, "personne")
    view = "mois" if _field(form, "vue") == "mois" else "semaine"
    week = _day(_field(form, "semaine"))
    if family_id is None or not ID.match(person_id):
        raise web.HTTPSeeOther("/reservations")
    # Each box once: the phone's list of days and the grid carry the same boxes (one of them
    # hidden), and a page turned between the two without its script sends a box ticked in
    # both twice — the service refuses the second as « la même case figure deux fois ».
    book = list(dict.fromkeys(str(v)[:64] for v in form.getall("reserver", [])))[:MAX_TICKS]
    cancel = list(dict.fromkeys(str(v)[:64] for v in form.getall("annuler", [])))[:MAX_TICKS]
    changes = [{"person_id": person_id, "opening_id": o, "action": "book"} for o in book]
    changes += [{"person_id": person_id, "opening_id": o, "action": "cancel"} for o in cancel]
    back = _back(family_id, person_id, week, view)
    if not changes:
        return await _page(request, identity, **back, error="Aucun changement à enregistrer.")
    body: dict[str, Any] = {"changes": changes}
    key = _field(form, "cle")
    if re.match(r"^[A-Za-z0-9_-]{8,64}$", key):
        # The form's one-time key: a double submit (or a reload of the answer) books once.
        body["idempotency_key"] = key
    reply = await call_service(
        request, "bookings", "POST", f"/families/{family_id}/reservations/changes", json=body
    )
    if not reply.ok:
        detail = problem_text(request, reply.data, "L'enregistrement n'a pas pu être fait.")
        if _problem_type(reply.data).endswith("/idempotency-key-reused"):
            # This form's key already saved other ticks (a page shown again by « Retour »):
            # the page comes back with the planning as it is now, and a new key.
            detail = KEY_REUSED
        elif reply.status == 422:
            detail = "Trop de changements à la fois : 200 au plus par enregistrement."
        return await _page(request, identity, **back, error=detail, status=reply.status)
    return await _page(request, identity, **back, results=reply.data["results"])


KEY_REUSED = (
    "Ce formulaire avait déjà été enregistré avec d'autres cases : rien n'a été changé. "
    "Vérifiez le planning ci-dessous, puis cochez et enregistrez de nouveau."
)


def _problem_type(data: Any) -> str:
    """The `type` of a service's problem answer ("" for anything else)."""
    return str(data.get("type") or "") if isinstance(data, dict) else ""


async def repeat_reservations(request: web.Request) -> web.StreamResponse:
    """POST /reservations/repeter: repeat this week, for this child or several."""
    identity = await require_signed_in(request)
    form = await request.post()
    family_id = chosen_family(identity, _field(form, "famille"))
    person_id = _field(form, "personne")
    week = _day(_field(form, "semaine"))
    until = _day(_field(form, "jusqu_au"))
    source = _day(_field(form, "source")) or week
    if family_id is None or not ID.match(person_id) or source is None:
        raise web.HTTPSeeOther("/reservations")
    back = _back(family_id, person_id, week, "semaine")
    if until is None:
        return await _page(request, identity, **back, error="Choisissez une date de fin.")
    # The service's own rules, said to the parent (its refusal is a bare « champs invalides »).
    if until < source:
        error = "La date de fin doit être après la semaine à répéter."
        return await _page(request, identity, **back, error=error, status=422)
    if (until - source).days > REPEAT_DAYS:
        latest = formats_of(request).date_text(source + timedelta(days=REPEAT_DAYS))
        error = translator_of(request)(REPEAT_TOO_FAR, latest=latest)
        return await _page(request, identity, **back, error=error, status=422)
    others = [str(v)[:64] for v in form.getall("enfants", []) if ID.match(str(v))][:20]
    body = {
        "person_id": person_id,
        "week_of": source.isoformat(),
        "until": until.isoformat(),
        "every": 2 if _field(form, "rythme") == "2" else 1,
        "person_ids": list(dict.fromkeys([*others])) if others else [],
    }
    reply = await call_service(
        request, "bookings", "POST", f"/families/{family_id}/reservations/repeat", json=body
    )
    if not reply.ok:
        detail = problem_text(request, reply.data, "La répétition n'a pas pu être faite.")
        return await _page(request, identity, **back, error=detail, status=reply.status)
    results = reply.data["results"]
    notice = None if results else "Rien à répéter : aucune réservation cette semaine-là."
    return await _page(request, identity, **back, results=results, notice=notice)


async def calendar_link(request: web.Request) -> web.StreamResponse:
    """POST /reservations/calendrier: a new private link (or revoke it)."""
    identity = await require_signed_in(request)
    form = await request.post()
    family_id = chosen_family(identity, _field(form, "famille"))
    person_id = _field(form, "personne")
    if family_id is None or not ID.match(person_id):
        raise web.HTTPSeeOther("/reservations")
    path = f"/families/{family_id}/persons/{person_id}/calendar-feed"
    back = _back(family_id, person_id, _day(_field(form, "semaine")), "semaine")
    if _field(form, "action") == "revoquer":
        revoked = await call_service(request, "bookings", "DELETE", path)
        if revoked.status == 404:  # another family's child, or none: nothing was revoked
            raise web.HTTPNotFound()
        query = urlencode({"famille": family_id, "personne": person_id, "revoque": "1"})
        raise web.HTTPSeeOther(f"/reservations?{query}")
    reply = await call_service(request, "bookings", "POST", path)
    if reply.status == 404:
        raise web.HTTPNotFound()
    if not reply.ok:
        return await _page(request, identity, **back, error="Lien impossible pour le moment.")
    link = request.app[GATEWAY_SETTINGS].public_base_url.rstrip("/")
    notice = (
        "Votre lien de calendrier (à garder pour vous ; un nouveau lien remplace l'ancien) : "
        f"{link}{reply.data['path']}"
    )
    return await _page(request, identity, **back, notice=notice)


# --- staff -------------------------------------------------------------------------------


async def _staff_page(
    request: web.Request, *, results: list[dict[str, Any]] | None = None, status: int = 200,
    source: Any = None, subjects: dict[str, str] | None = None, saved: int = 0,
) -> web.Response:  # fmt: skip
    query = source if source is not None else request.query
    activity_id = str(query.get("activite", ""))
    day = _day(str(query.get("jour", ""))) or paris_today()
    days = 7 if str(query.get("duree", "")) == "7" else 1
    activities = await _get(request, "bookings", "/activities")
    roster = None
    if ID.match(activity_id):
        roster = await _get(
            request, "bookings", "/roster",
            activity_id=activity_id, day=day.isoformat(), days=str(days),
        )  # fmt: skip
    pending = await _pending(request)
    names = await family_names(request, (r["family_id"] for r in pending))
    # The services answer each result with a reservation id only: name who and when from the
    # lists this page shows (the roster for attendance, the queue before a decision).
    subjects = {
        **_roster_subjects(request, roster),
        **_queue_subjects(request, pending),
        **(subjects or {}),
    }
    context = {
        "activities": [] if activities is None else activities["items"],
        "activity_id": activity_id,
        "day": day.isoformat(),
        "days": days,
        "roster": roster,
        "attendance_saved": saved,
        "day_shown": lambda day: _day_shown(request, day),  # « Wed 21/04/2027 »
        # Oldest day first, each written 21/04/2027 as the rest of the pages do; with the
        # family's name (two « Enfant MARTIN » of two families were told apart by nothing).
        "pending": [
            {
                **r,
                "day_shown": _day_shown(request, r["day"], weekday=False),
                "family_name": names.get(r["family_id"]),
            }
            for r in pending
        ],
        "results": [
            {
                **r,
                "subject": subjects.get(str(r.get("reservation_id", ""))),
                # The service's (or this page's) French sentence, in the page's language.
                "detail": message_text(request, str(r["detail"])) if r.get("detail") else None,
            }
            for r in results or []
        ],
    }
    return await render(request, "bookings/agents_reservations.html", context, status=status)


async def _pending(request: web.Request) -> list[dict[str, Any]]:
    """The requests waiting for a decision, oldest day first."""
    pending = await _get(request, "bookings", "/reservations", state="requested", limit="200")
    items = (pending or {}).get("items", [])
    return sorted(items, key=lambda r: (r["day"], r["person_name"]))


def _subject(request: web.Request, person: str, activity: str, unit: str, day: str) -> str:
    """ "Enfant TEST — ALSH Josta Leku, Journée, mer. 21/04/2027": whose reservation, when."""
    return f"{person} — {activity}, {unit}, {_day_shown(request, day)}"


def _queue_subjects(request: web.Request, pending: list[dict[str, Any]]) -> dict[str, str]:
    return {
        r["id"]: _subject(request, r["person_name"], r["activity_name"], r["unit_label"], r["day"])
        for r in pending
    }


def _roster_subjects(request: web.Request, roster: dict[str, Any] | None) -> dict[str, str]:
    if roster is None:
        return {}
    return {
        p["reservation_id"]: _subject(
            request, p["person_name"], roster["activity_name"], o["unit_label"], o["day"]
        )
        for o in roster["openings"]
        for p in o["booked_persons"] + o["waiting"]
    }


async def staff_reservations(request: web.Request) -> web.StreamResponse:
    """GET /agents/reservations: a day or week per activity, attendance, pending requests."""
    await require_staff_page(request)
    # ?presences=N: the attendance save redirected here, N marks saved (see staff_attendance).
    saved = request.query.get("presences", "")
    # ?decisions=<ticket>: the decisions redirected here, their results kept under it.
    results, subjects = await _kept_decisions(request, request.query.get(DECISIONS_QUERY, ""))
    return await _staff_page(
        request,
        saved=int(saved) if is_plain_number(saved) else 0,
        results=results,
        subjects=subjects,
    )


async def staff_csv(request: web.Request) -> web.StreamResponse:
    """GET /agents/reservations.csv: the same list as CSV (for a spreadsheet)."""
    await require_staff_page(request)
    activity_id = request.query.get("activite", "")
    day = _day(request.query.get("jour")) or paris_today()
    days = "7" if request.query.get("duree") == "7" else "1"
    if not ID.match(activity_id):
        raise web.HTTPNotFound()
    roster = await _get(
        request, "bookings", "/roster", activity_id=activity_id, day=day.isoformat(), days=days
    )
    if roster is None:
        raise web.HTTPNotFound()
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    listed = [(o, p) for o in roster["openings"] for p in o["booked_persons"] + o["waiting"]]
    # The family's name beside the child's: the bookings service knows only its id, and two
    # « Enfant MARTIN » of two families were told apart by nothing on the printed list.
    contacts = await _family_contacts(request, {p["family_id"] for _, p in listed})
    writer.writerow(
        ["date", "groupe", "unité", "enfant", "famille", "téléphone", "état", "présence",
         "capacité"]
    )  # fmt: skip
    for o, p in listed:
        writer.writerow(
            [o["day"], o["group_name"], o["unit_label"], _safe(p["person_name"]),
             _safe(_cell(contacts, p["family_id"], "name")),
             _safe(_cell(contacts, p["family_id"], "phone")),
             p["state_label"], p["attendance"] or "", o["capacity"]]
        )  # fmt: skip
    name = f"reservations-{day.isoformat()}.csv"
    return web.Response(
        body=out.getvalue().encode("utf-8-sig"), content_type="text/csv", charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )  # fmt: skip


async def _family_contacts(request: web.Request, family_ids: set[str]) -> dict[str, Any]:
    """Each family's name and phone (its other one if it has no main one), to tell two
    « Enfant MARTIN » apart and call a parent from the printed list: one call to the families
    service per MAX_FAMILY_NAMES families (a `GET` per family made 200 calls for 200
    families); a family it could not read gets empty cells."""
    # One id the service refuses (422) would cost the whole chunk its cells.
    wanted = sorted(i for i in family_ids if ID.match(i) and _is_family_id(i))
    chunks = [
        wanted[start : start + MAX_FAMILY_NAMES]
        for start in range(0, len(wanted), MAX_FAMILY_NAMES)
    ]
    found = await asyncio.gather(*(_contacts_of_families(request, c) for c in chunks))
    return {family["id"]: family for families in found for family in families}


def _is_family_id(value: str) -> bool:
    try:
        _FAMILY_ID.validate_python(value)
    except ValidationError:
        return False
    return True


async def _contacts_of_families(request: web.Request, family_ids: list[str]) -> list[Any]:
    """What `POST /families/contacts` gives for these ids, or nothing when it cannot answer."""
    try:
        reply = await call_service(
            request, "families", "POST", "/families/contacts", json={"ids": family_ids}
        )
    except Problem:
        return []
    families = reply.data.get("families") if reply.ok and isinstance(reply.data, dict) else None
    return [f for f in families or [] if isinstance(f, dict) and isinstance(f.get("id"), str)]


def _cell(contacts: dict[str, Any], family_id: str, field: str) -> str:
    # A family not found, or a field it does not have (null), is an empty cell.
    return str(contacts.get(family_id, {}).get(field) or "")


def _safe(value: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet: make it text.
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


async def staff_attendance(request: web.Request) -> web.StreamResponse:
    """POST /agents/reservations/presences: présent / absent justifié / non justifié."""
    await require_staff_page(request)
    form = await request.post()
    marks = []
    for key in form:
        if key.startswith("presence-") and ID.match(key[9:]):
            value = str(form[key])
            if value in ("present", "absent_justified", "absent_unjustified"):
                marks.append({"reservation_id": key[9:], "attendance": value})
    if not marks:
        # A save with no child ticked answered a page with no word at all: on a phone the
        # agent could not tell it from a save that worked.
        results = [{"ok": False, "detail": "Aucune présence cochée : rien n'est enregistré."}]
        return await _staff_page(request, results=results, status=422, source=form)
    reply = await call_service(
        request, "bookings", "POST", "/attendance", json={"marks": marks[:500]}
    )
    results = reply.data["results"] if reply.ok else [{"ok": False, "detail": "Erreur."}]
    if reply.ok and all(r.get("ok") for r in results):
        # Post/redirect/get: answered with a page, the save was sent again by a reload on the
        # phone (after asking). The list, marks shown, and how many were saved.
        back = {
            "activite": _field(form, "activite"),
            "jour": _field(form, "jour"),
            "duree": _field(form, "duree") or "1",
            "presences": str(len(results)),
        }
        raise web.HTTPSeeOther("/agents/reservations?" + urlencode(back))
    # A mark refused: the page itself, each refusal with its reason, to correct and send again.
    return await _staff_page(request, results=results, source=form)


async def staff_decisions(request: web.Request) -> web.StreamResponse:
    """POST /agents/reservations/decisions: accept or refuse pending requests."""
    await require_staff_page(request)
    form = await request.post()
    ids = [str(v)[:64] for v in form.getall("ids", [])][:200]
    decision = _field(form, "decision")
    reason = str(form.get("motif", ""))[:500].strip() or None
    if not ids or decision not in ("accept", "refuse") or (decision == "refuse" and not reason):
        results = [{"ok": False, "detail": "Sélectionnez des demandes (et un motif pour refuser)."}]
        return await _staff_page(request, results=results, status=422, source=form)
    decisions = [{"reservation_id": i, "decision": decision, "reason": reason} for i in ids]
    # Read before deciding: a decided request leaves the queue the result lines are named from.
    subjects = _queue_subjects(request, await _pending(request))
    reply = await call_service(
        request, "bookings", "POST", "/reservations/decisions", json={"decisions": decisions}
    )
    if not reply.ok:
        return await _staff_page(request, results=[{"ok": False, "detail": "Erreur."}], source=form)
    # The decisions answer a state code ("confirmed"); the page says it as the planning does.
    results = [
        {**r, "label": RESERVATION_LABELS.get(r.get("state") or "", "")}
        for r in reply.data["results"]
    ]
    # Only the decided requests' names are kept: the queue holds up to 200 others.
    decided = [str(r.get("reservation_id", "")) for r in results]
    subjects = {i: subjects[i] for i in decided if i in subjects}
    ticket = await _keep_decisions(request, results, subjects)
    if ticket is None:
        # Redis could not keep them: the results on the POST itself rather than lost.
        return await _staff_page(request, results=results, source=form, subjects=subjects)
    back = {"activite": _field(form, "activite"), "jour": _field(form, "jour")}
    raise web.HTTPSeeOther("/agents/reservations?" + urlencode({**back, DECISIONS_QUERY: ticket}))


# Post/redirect/get for the decisions, as for attendance: answered on the POST, a reload (the
# phone asking « send the form again? ») sent the decisions again. Their results (whose
# request, its outcome, a refusal's reason) are kept a few minutes in Redis, under the
# session's hash and a random ticket the redirect names. Not in the query: with the names and
# the service's sentences in it, a link could be forged to show « Enfant X : réservé » for a
# request nobody accepted (and children's names would land in the browser's history and the
# access logs); under the session's hash, another session's ticket reads nothing.
DECISIONS_QUERY = "decisions"
DECISIONS_SECONDS = 10 * 60
TICKET = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


async def _keep_decisions(
    request: web.Request, results: list[dict[str, Any]], subjects: dict[str, str]
) -> str | None:
    """Keep the decisions' results for the page the redirect leads to: their ticket, or None
    when they cannot be kept."""
    ticket = secrets.token_urlsafe(16)
    kept = {"results": results, "subjects": subjects}
    name = f"agent-decisions:{ticket}"
    if not await session_stash.keep(request, name, kept, seconds=DECISIONS_SECONDS):
        return None
    return ticket


async def _kept_decisions(
    request: web.Request, ticket: str
) -> tuple[list[dict[str, Any]] | None, dict[str, str] | None]:
    """The results kept under `ticket` for this session; none for an unknown, expired or
    other session's ticket. Read again on a reload (the page stays the same), until expiry."""
    if not TICKET.match(ticket):
        return None, None
    found = await session_stash.read(request, f"agent-decisions:{ticket}")
    if not found:
        return None, None
    return found["results"], found["subjects"]


async def staff_closure(request: web.Request) -> web.StreamResponse:
    """POST /agents/reservations/fermeture: close a day and cancel its reservations."""
    await require_staff_page(request)
    form = await request.post()
    activity_id = _field(form, "activite")
    day = _day(_field(form, "jour_ferme"))
    reason = _field(form, "motif")
    if not ID.match(activity_id) or day is None or not reason:
        results = [{"ok": False, "detail": "Choisissez l'activité, le jour et le motif."}]
        return await _staff_page(request, results=results, status=422, source=form)
    # Closing cancels every family's reservation of the day and e-mails them all, at once and
    # for good: the first click only says what it will do, the second does it.
    if _field(form, "confirme") != "1":
        return await _closure_confirmation(request, form, activity_id, day, reason)
    reply = await call_service(
        request, "bookings", "POST", f"/activities/{activity_id}/closure-cancellations",
        json={"day": day.isoformat(), "reason": reason},
    )  # fmt: skip
    if reply.ok:
        detail = translator_of(request)(
            "Fermeture du {day} : {count} réservation(s) annulée(s), familles prévenues.",
            day=_day_shown(request, day, weekday=False),
            count=reply.data["cancelled"],
        )
        results = [{"ok": True, "detail": detail}]
    else:
        results = [
            {"ok": False, "detail": problem_text(request, reply.data, "Fermeture impossible.")}
        ]
    return await _staff_page(request, results=results, source=form)


async def _closure_confirmation(
    request: web.Request, form: Any, activity_id: str, day: date, reason: str
) -> web.Response:
    """The closure's confirmation: the activity, the day, whose reservations it cancels."""
    roster = await _get(
        request, "bookings", "/roster", activity_id=activity_id, day=day.isoformat(), days="1"
    )
    if roster is None:
        results = [{"ok": False, "detail": "Fermeture impossible."}]
        return await _staff_page(request, results=results, status=422, source=form)
    cancelled = [
        {"name": p["person_name"], "unit": o["unit_label"], "group": o["group_name"]}
        for o in roster["openings"]
        for p in o["booked_persons"] + o["waiting"]
    ]
    context = {
        "activity_id": activity_id,
        "activity_name": roster["activity_name"],
        "day": day.isoformat(),
        "day_shown": _day_shown(request, day),
        "back_day": _field(form, "jour") or day.isoformat(),
        "reason": reason,
        "cancelled": cancelled,
    }
    return await render(request, "bookings/agents_closure_confirm.html", context)


def register(app: web.Application) -> None:
    """Add "Mes réservations" and the staff lists."""
    app.router.add_get("/reservations", reservations_page, name="reservations")
    app.router.add_post("/reservations/enregistrer", save_reservations)
    app.router.add_post("/reservations/repeter", repeat_reservations)
    app.router.add_post("/reservations/calendrier", calendar_link)
    app.router.add_get("/agents/reservations", staff_reservations, name="agents_reservations")
    app.router.add_get("/agents/reservations.csv", staff_csv)
    app.router.add_post("/agents/reservations/presences", staff_attendance)
    app.router.add_post("/agents/reservations/decisions", staff_decisions)
    app.router.add_post("/agents/reservations/fermeture", staff_closure)
