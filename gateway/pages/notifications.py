""" "Historique de mes actions", "Contacter la structure", e-mail preferences, and the staff
pages of the notifications service (messages, recipients, news, e-mails, dead letters).

Every rule lives in the notifications service; these pages gather forms, call it as the
signed-in visitor and show its answer in French. The contact form is posted with the
visitor's address (the service limits messages per address too); its anti-robot check is a
proof of work solved by a small script in the page (no third party, nothing to see or click).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import MAXYEAR, MINYEAR, date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import ClientError, web

from services.billing.payment_methods import PAYFIP, method_label
from services.kit.identity import Identity
from services.kit.problems import BadGateway, GatewayTimeout

from ..calls import ServiceReply, call_service, chosen_family, family_names, fetch_json
from ..clientip import client_ip
from ..formats import Formats, formats_in, formats_of
from ..i18n import translator_of
from ..keys import BREAKERS, GATEWAY_SETTINGS, SESSION, UPSTREAM_CLIENT
from ..numbers import is_plain_number
from ..paris_time import PARIS
from ..rendering import render
from ..session import require_signed_in, require_staff_page

SERVICE = "notifications"
ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
# Browsers without a month picker (Firefox, Safari on a computer) show a text box: « 11/2026 ».
TYPED_MONTH = re.compile(r"^\s*(\d{1,2})\s*/\s*(\d{4})\s*$")
PAGE_SIZE = 20
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)

# A failed sign-in's `reason` is auth's code, not a sentence: what a parent reads instead.
LOGIN_FAILURE_REASONS = {
    "password": "mot de passe incorrect",
    "second_factor": "code de vérification incorrect",
}

# What each journal line says (French; the English catalog translates the same keys).
EVENT_LABELS = {
    "account.login_succeeded": "Connexion",
    "account.login_failed": "Échec de connexion",
    "account.logged_out": "Déconnexion",
    "account.activated": "Compte activé",
    "account.password_changed": "Mot de passe modifié",
    "account.password_reset_requested": "Demande de réinitialisation du mot de passe",
    "account.password_reset_completed": "Mot de passe réinitialisé",
    "account.mfa_enabled": "Double authentification activée",
    "account.mfa_disabled": "Double authentification désactivée",
    "account.membership_added": "Accès à la famille ouvert",
    "account.membership_removed": "Accès à la famille retiré",
    "account.disabled": "Compte désactivé",
    "account.enabled": "Compte réactivé",
    "account.unlocked": "Compte débloqué",
    "family.created": "Famille créée",
    "family.updated": "Informations de la famille modifiées",
    "person.created": "Personne ajoutée",
    "person.updated": "Informations d'une personne modifiées",
    "family.change_requested": "Demande de modification envoyée",
    "family.change_accepted": "Demande de modification acceptée",
    "family.change_refused": "Demande de modification refusée",
    "family.change_withdrawn": "Demande de modification retirée",
    "family.exported": "Données de la famille exportées",
    "registration.requested": "Demande d'inscription envoyée",
    "registration.accepted": "Demande d'inscription acceptée",
    "registration.refused": "Demande d'inscription refusée",
    "registration.cancelled": "Inscription annulée",
    "reservation.confirmed": "Réservation confirmée",
    "reservation.refused": "Réservation refusée",
    "reservation.place_freed": "Place libérée : réservation confirmée",
    "reservation.requested": "Demande de réservation envoyée",
    "reservation.cancelled": "Réservation annulée",
    "reservation.waitlisted": "Réservation en liste d'attente",
    "reservation.promoted": "Place libérée : réservation confirmée",
    "document.submitted": "Document transmis",
    "document.accepted": "Document accepté",
    "document.refused": "Document refusé",
    "document.replaced": "Document remplacé par un nouvel envoi",
    "document.downloaded": "Document consulté",
    "document.expiring": "Document bientôt expiré",
    "invoice.issued": "Facture disponible",
    "invoice.cancelled": "Facture annulée",
    "payment.received": "Paiement reçu",
    # « Contacter la structure »: written by this service itself, with the message.
    "contact.message_sent": "Message envoyé à la structure",
    "contact.replied": "Réponse de la structure",
}
# `portail families-inapplicable-fields --apply` (event marked `maintenance`): the town emptied
# fields, which must not read as something the family did.
MAINTENANCE_LABEL = "Maintenance : champs vidés"
DETAIL_FIELDS = (
    "recipient_name",
    "person_name",
    "activity_name",
    "period_name",
    "document_type_name",
    "number",
    "receipt_number",
    "date",
    "unit_name",
)
EMAIL_STATES = {"failed": "en échec", "pending": "en attente", "sent": "envoyés"}
# The page opens on the failed e-mails: « Aucun courriel. » alone read as « nothing was sent ».
NO_EMAILS = {
    "failed": "Aucun courriel en échec.",
    "pending": "Aucun courriel en attente.",
    "sent": "Aucun courriel envoyé.",
}


# --- small helpers -------------------------------------------------------------------------


def _id(value: Any) -> str | None:
    text = str(value or "")
    return text if ID.match(text) else None


def _field(form: Any, name: str, limit: int = 200) -> str:
    return str(form.get(name, ""))[:limit].strip()


Translate = Callable[..., str]


def _french(text: str, **values: object) -> str:
    """The French text itself, filled: what a translator gives when no language was chosen."""
    return text.format(**values) if values else text


def when(value: str, _: Translate = _french) -> str:
    """`samedi 28/11/2026 à 18:05` (Paris time) from an ISO instant, in the page's language."""
    try:
        moment = datetime.fromisoformat(value).astimezone(PARIS)
    except ValueError:
        return value
    return _(
        "{weekday} {day} à {hour}",
        weekday=_(WEEKDAYS[moment.weekday()]),
        day=_formats(_).date_text(moment.date()),
        hour=f"{moment:%H:%M}",
    )


def _formats(_: Translate) -> Formats:
    """The formats of a translator's language (French for `_french`)."""
    return formats_in(getattr(_, "language", "fr"))


def _is_maintenance(entry: dict[str, Any]) -> bool:
    summary = entry.get("summary") or {}
    return entry.get("event_type") == "person.updated" and summary.get("maintenance") is True


def _label(entry: dict[str, Any]) -> str:
    """What the line says happened (French; the template translates it)."""
    if _is_maintenance(entry):
        return MAINTENANCE_LABEL
    event_type = str(entry["event_type"])
    return EVENT_LABELS.get(event_type, event_type)


def _detail(entry: dict[str, Any], _: Translate = _french) -> str:
    """« Enfant TEST — ALSH — 21/04/2027 — Journée »: the event's names, its day as the page
    writes days (the service keeps the ISO day), an invoice's or payment's amount (« R2026-0002
    — 10,00 € — chèque »), the fields of a change request; for a maintenance, the fields
    emptied."""
    summary = entry.get("summary") or {}
    if _is_maintenance(entry):
        emptied = [_(str(label)) for label in summary.get("labels") or summary.get("fields") or []]
        return _("{fields} (ne concernaient pas cette personne)", fields=", ".join(emptied))
    shown = {**summary, "date": _formats(_).date_text(summary.get("date"))}
    parts = [str(shown[k]) for k in DETAIL_FIELDS if shown.get(k)]
    # An invoice's total, a payment's amount: « F2026-0001 — 24,00 € »; and how it was paid.
    cents = summary.get("total_cents", summary.get("amount_cents"))
    if isinstance(cents, int) and not isinstance(cents, bool):
        parts.append(_formats(_).euros(cents))
    if entry.get("event_type") == "payment.received" and summary.get("method"):
        parts.append(paid_by(str(summary["method"]), _))
    if summary.get("labels"):  # the fields of a change request, as « Ma famille » names them
        parts.append(", ".join(_(str(label)) for label in summary["labels"]))
    if summary.get("subject"):  # a message's subject, never its body
        parts.append(_("objet : {subject}", subject=str(summary["subject"])))
    if summary.get("reason"):
        reason = str(summary["reason"])
        if entry.get("event_type") == "account.login_failed":
            reason = _(LOGIN_FAILURE_REASONS.get(reason, "autre motif"))
        parts.append(_("motif : {reason}", reason=reason))
    return " — ".join(parts)


def paid_by(method: str, _: Translate = _french) -> str:
    """How a payment was made, in a line's detail: « paiement en ligne » (PayFiP), else
    billing's name of the method as words inside a sentence: « chèque », « espèces », « CESU »."""
    if method == PAYFIP:
        return _("paiement en ligne")
    name = _(method_label(method))
    return name if name[1:2].isupper() else name[:1].lower() + name[1:]


def _person(
    person: Any, viewer: str | None, _: Translate = _french, staff_view: bool = False
) -> str:
    """« un agent de la structure », « vous », a family account's address; to staff, which
    agent (« l'agent x@y », the service tells staff alone; its id when the address is not
    known); empty when the journal does not know."""
    if not isinstance(person, dict):
        return ""
    if person.get("role") == "staff":
        agent = person.get("email") or person.get("account_id")
        if staff_view and agent:
            return _("l'agent {agent}", agent=str(agent))
        return _("un agent de la structure")
    if person.get("role") == "service":
        return _("un logiciel de la structure")
    if viewer is not None and person.get("account_id") == viewer:
        return _("vous")
    # Both parents see each other's address in the family's accounts: it tells them apart.
    return str(person.get("email") or _("un membre de la famille"))


def _by(
    entry: dict[str, Any], viewer: str | None, _: Translate = _french, staff_view: bool = False
) -> str:
    """Who did what the line says (« Par : … »)."""
    return _person(entry.get("by"), viewer, _, staff_view)


def _account(entry: dict[str, Any], viewer: str | None, _: Translate = _french) -> str:
    """« votre compte », « compte parent2@example.org »: the account an auth line is about,
    when it is not already who acted (a failed sign-in: anyone may have typed)."""
    account, by = entry.get("account"), entry.get("by")
    if not isinstance(account, dict):
        return ""
    if isinstance(by, dict) and by.get("account_id") == account.get("account_id"):
        return ""
    if viewer is not None and account.get("account_id") == viewer:
        return _("votre compte")
    if account.get("email"):
        return _("compte {email}", email=account["email"])
    return _("un compte de la famille")


def _iso_week(day: date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_of(query: Any) -> str:
    """The ISO week asked for (`2026-W10`): `semaine` as such, or the week of the day `jour`.

    The form asks for a day (`<input type="date">` works in every browser; `type="week"` does
    not in Firefox and Safari); links and pages keep `semaine=` so that old links still work.
    """
    day = parse_day(str(query.get("jour", "")))
    return _iso_week(day) if day is not None else str(query.get("semaine", ""))


def parse_day(text: str) -> date | None:
    """`2026-03-04` (a date field) or `04/03/2026` (typed where the field is plain text)."""
    text = text.strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def month_of(query: Any) -> str:
    """The `mois` asked for as YYYY-MM, from the picker's value or a typed « MM/AAAA »."""
    month = str(query.get("mois", ""))[:20]
    if typed := TYPED_MONTH.match(month):
        return f"{typed[2]}-{int(typed[1]):02d}"
    return month


def _steppable(year: int) -> bool:
    """A year whose weeks and months have neighbours: 0001 or 9999 would make the week
    before or the month after an impossible date (a 500)."""
    return MINYEAR < year < MAXYEAR


def period_of(
    query: Any, today: date, _: Translate = _french
) -> tuple[str, str, str, datetime | None, datetime | None]:
    """(kind, value, label, since, until) of the week or month filter, Paris days."""
    week, month = week_of(query), month_of(query)
    if (match := WEEK.match(week)) and _steppable(int(match[1])):
        try:
            monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
        except ValueError:
            monday = None
        if monday is not None:
            start = datetime.combine(monday, time(0), PARIS)
            end = datetime.combine(monday + timedelta(days=7), time(0), PARIS)
            label = _(
                "semaine du {first} au {last}",
                first=_formats(_).date_text(monday),
                last=_formats(_).date_text(monday + timedelta(days=6)),
            )
            return "semaine", week, label, start, end
    if (match := MONTH.match(month)) and 1 <= int(match[2]) <= 12 and _steppable(int(match[1])):
        first = date(int(match[1]), int(match[2]), 1)
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        start = datetime.combine(first, time(0), PARIS)
        end = datetime.combine(following, time(0), PARIS)
        return "mois", month, _formats(_).month(first.year, first.month), start, end
    return "", "", "", None, None


def _week_steps(since: datetime, _: Translate) -> list[tuple[str, str, dict[str, str]]]:
    """(rel, text, query) of the weeks before and after the one shown."""
    monday = since.date()
    before, after = monday - timedelta(days=7), monday + timedelta(days=7)
    shown = _formats(_).date_text
    return [
        ("prev", _("Semaine du {day}", day=shown(before)), {"semaine": _iso_week(before)}),
        ("next", _("Semaine du {day}", day=shown(after)), {"semaine": _iso_week(after)}),
    ]


def _shortcuts(today: date) -> list[tuple[str, dict[str, str]]]:
    last_month = today.replace(day=1) - timedelta(days=1)
    return [
        ("Cette semaine", {"semaine": _iso_week(today)}),
        ("Semaine précédente", {"semaine": _iso_week(today - timedelta(days=7))}),
        ("Ce mois-ci", {"mois": f"{today:%Y-%m}"}),
        ("Mois précédent", {"mois": f"{last_month:%Y-%m}"}),
    ]


# --- Historique de mes actions ------------------------------------------------------------


async def _journal(
    request: web.Request,
    family_id: str,
    base: str,
    extra: dict[str, str],
    viewer: str | None = None,
    staff_view: bool = False,
) -> dict[str, Any]:
    """The page's context; `viewer`, the family account reading (its lines say « vous »);
    `staff_view`, an agent reading (its lines name the agent who acted)."""
    today = datetime.now(PARIS).date()
    _ = translator_of(request)
    kind, value, label, since, until = period_of(request.query, today, _)
    typed_day = str(request.query.get("jour", ""))[:20]
    day_error = (
        "Cette date n'est pas valable : choisissez un jour (JJ/MM/AAAA)."
        # Read but out of the calendar's reach (31/12/9999): no week to show either.
        if typed_day.strip() and (parse_day(typed_day) is None or not kind)
        else None
    )
    # A month that cannot be read says so, instead of showing the whole history unfiltered.
    month_error = (
        "Ce mois n'est pas valable : choisissez un mois (MM/AAAA)."
        if month_of(request.query).strip() and not kind
        else None
    )
    try:
        page = max(1, min(int(request.query.get("page", "1")), 10_000))
    except ValueError:
        page = 1
    params = {"page": str(page), "page_size": str(PAGE_SIZE)}
    if since is not None and until is not None:
        params |= {"since": since.isoformat(), "until": until.isoformat()}
    data = await fetch_json(request, "notifications", f"/journal/{quote(family_id)}", **params)
    filters = {kind: value} if kind else {}

    def url(**changes: str) -> str:
        query = {**extra, **filters, **changes}
        return base + ("?" + urlencode(query) if query else "")

    pages = 0 if data is None else max(1, -(-data["total"] // PAGE_SIZE))
    return {
        "entries": None
        if data is None
        else [
            {
                "when": when(e["occurred_at"], translator_of(request)),
                "label": _label(e),
                "detail": " — ".join(
                    part
                    for part in (_account(e, viewer, _), _detail(e, translator_of(request)))
                    if part
                ),
                "by": _by(e, viewer, _, staff_view),
                "type": e["event_type"],
            }
            for e in data["items"]
        ],
        "total": 0 if data is None else data["total"],
        "page": page,
        "pages": pages,
        "previous_url": url(page=str(page - 1)) if page > 1 else None,
        "next_url": url(page=str(page + 1)) if page < pages else None,
        "filter_kind": kind,
        "filter_label": label,
        "week_day": since.date().isoformat() if kind == "semaine" and since else typed_day,
        "day_error": day_error,
        "month_error": month_error,
        "week_steps": [
            (rel, text, base + "?" + urlencode({**extra, **query}))
            for rel, text, query in (_week_steps(since, _) if kind == "semaine" and since else [])
        ],
        "month_value": value if kind == "mois" else str(request.query.get("mois", ""))[:20],
        "shortcuts": [
            (name, base + "?" + urlencode({**extra, **q})) for name, q in _shortcuts(today)
        ],
        "all_url": base + ("?" + urlencode(extra) if extra else ""),
        "form_action": base,
        "hidden": extra,
    }


async def history_page(request: web.Request) -> web.StreamResponse:
    """GET /historique: every sign-in and action, by week or month, page by page."""
    identity = await require_signed_in(request)
    family_id = chosen_family(identity, request.query.get("famille"))
    context: dict[str, Any] = {"family_id": family_id, "staff_view": False}
    if family_id is not None:
        extra = {"famille": family_id} if len(identity.memberships) > 1 else {}
        context |= await _journal(request, family_id, "/historique", extra, identity.subject)
    return await render(request, "notifications/history.html", context)


async def staff_history_page(request: web.Request) -> web.StreamResponse:
    """GET /agents/familles/{family_id}/historique: the same journal, for staff."""
    await require_staff_page(request)
    family_id = _id(request.match_info["family_id"])
    if family_id is None:
        raise web.HTTPNotFound()
    context: dict[str, Any] = {"family_id": family_id, "staff_view": True}
    context |= await _journal(
        request, family_id, f"/agents/familles/{family_id}/historique", {}, staff_view=True
    )
    return await render(request, "notifications/history.html", context)


# --- Contacter la structure -----------------------------------------------------------------


async def _send(request: web.Request, method: str, path: str, body: Any) -> ServiceReply:
    """Call the service with the visitor's token and address (its per-address limit needs it)."""
    settings = request.app[GATEWAY_SETTINGS]
    breaker = request.app[BREAKERS][SERVICE]
    session = request.get(SESSION)
    headers = {"X-Forwarded-For": client_ip(request)}
    if session is not None and session.jwt:
        headers["Authorization"] = f"Bearer {session.jwt}"
    url = settings.service_urls()[SERVICE] + path
    try:
        async with asyncio.timeout(settings.upstream_deadline_seconds):
            async with request.app[UPSTREAM_CLIENT].request(
                method, url, json=body, headers=headers
            ) as response:
                data = await response.json(content_type=None)
                reply = ServiceReply(response.status, data, response.headers)
    except TimeoutError:
        breaker.record_failure()
        raise GatewayTimeout("The notifications service did not answer in time.") from None
    except (ClientError, ValueError):
        breaker.record_failure()
        raise BadGateway("The notifications service cannot be reached.") from None
    breaker.record_success()
    return reply


CONTACT_FIELDS_MISSING = (
    "Choisissez le destinataire, puis remplissez l'objet et le contenu du message : "
    "les trois sont obligatoires."
)


def refusal(reply: ServiceReply) -> str:
    """The visitor's French explanation of a refused message."""
    data = reply.data if isinstance(reply.data, dict) else {}
    kind = str(data.get("type", "")).rsplit("/", 1)[-1]
    if reply.status == 429:
        return "Vous avez envoyé trop de messages. Réessayez dans une heure."
    if kind == "captcha-refused":
        if data.get("reason") == "missing":
            return (
                "La vérification anti-robot n'est pas terminée : patientez quelques "
                "secondes puis envoyez à nouveau."
            )
        if data.get("reason") == "replayed":
            return "Cette vérification anti-robot a déjà servi : envoyez à nouveau le message."
        return "La vérification anti-robot a échoué : envoyez à nouveau le message."
    if kind == "unknown-recipient":
        return "Ce destinataire n'existe pas : choisissez-en un dans la liste."
    fields = {e.get("field") for e in data.get("errors", []) if isinstance(e, dict)}
    if "subject" in fields and "body" in fields:
        return "L'objet et le contenu du message sont obligatoires et limités en taille."
    if "subject" in fields:
        return "Indiquez l'objet du message (150 caractères au plus)."
    if "body" in fields:
        return "Indiquez le contenu du message (5 000 caractères au plus)."
    if reply.status == 503:
        return "L'envoi de messages est momentanément indisponible. Réessayez dans un instant."
    return "Le message n'a pas pu être envoyé. Réessayez."


async def _contact_page(
    request: web.Request,
    identity: Identity,
    *,
    values: dict[str, str] | None = None,
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    family_id = chosen_family(identity, request.query.get("famille"))
    recipients = await fetch_json(request, "notifications", "/contact-recipients")
    challenge = await fetch_json(request, "notifications", "/contact/challenge")
    threads = None
    if family_id is not None:
        threads = await fetch_json(
            request, "notifications", f"/families/{quote(family_id)}/contact-messages"
        )
    context = {
        "family_id": family_id,
        "recipients": None if recipients is None else recipients["items"],
        "challenge": challenge,
        "threads": None
        if threads is None
        else [
            {**t, "when": when(t["last_activity_at"], translator_of(request))}
            for t in threads["items"]
        ],
        "values": values or {},
        "error": error,
    }
    return await render(request, "notifications/contact.html", context, status=status)


async def contact_page(request: web.Request) -> web.StreamResponse:
    """GET /contact: the form (recipient, subject, content, anti-robot check) and my messages."""
    identity = await require_signed_in(request)
    return await _contact_page(request, identity)


async def send_message(request: web.Request) -> web.StreamResponse:
    """POST /contact: send the message; refused → the form again with what was typed."""
    identity = await require_signed_in(request)
    form = await request.post()
    family_id = chosen_family(identity, _field(form, "famille", 64))
    values = {
        "destinataire": _field(form, "destinataire", 64),
        "objet": _field(form, "objet", 600),
        "message": str(form.get("message", ""))[:60_000].strip(),
    }
    if family_id is None:
        raise web.HTTPSeeOther("/contact")
    if not all(values.values()):
        # Said here, all three at once: the service names only the first it checks (an empty
        # recipient read « Ce destinataire n'existe pas »), and the anti-robot proof is kept.
        return await _contact_page(
            request, identity, values=values, error=CONTACT_FIELDS_MISSING, status=422
        )
    body = {
        "recipient_id": values["destinataire"] or "-",
        "subject": values["objet"] or " ",
        "body": values["message"] or " ",
        "captcha": _field(form, "captcha", 10_000) or None,
    }
    reply = await _send(request, "POST", f"/families/{quote(family_id)}/contact-messages", body)
    if reply.ok:
        raise web.HTTPSeeOther(f"/contact/{reply.data['id']}?envoye=1")
    page = await _contact_page(
        request, identity, values=values, error=refusal(reply), status=reply.status
    )
    # Over the hourly limit (429) or the limiter down (503): say when to try again.
    if reply.status in (429, 503) and "Retry-After" in reply.headers:
        page.headers["Retry-After"] = reply.headers["Retry-After"]
    return page


async def thread_page(request: web.Request) -> web.StreamResponse:
    """GET /contact/{message_id}: one thread, and the reply form."""
    identity = await require_signed_in(request)
    message_id = _id(request.match_info["message_id"])
    if message_id is None:
        raise web.HTTPNotFound()
    thread = await fetch_json(request, "notifications", f"/contact-messages/{message_id}")
    if thread is None:
        raise web.HTTPNotFound()
    return await render(
        request,
        "notifications/thread.html",
        {
            "thread": thread,
            "posts": _posts(thread, translator_of(request)),
            "family_name": await _family_name(request, thread, identity.role == "staff"),
            "staff_view": identity.role == "staff",
            "sent": "envoye" in request.query,
            "action": f"/contact/{message_id}/repondre",
            "error": None,
        },
    )


async def _family_name(request: web.Request, thread: dict[str, Any], staff: bool) -> str | None:
    """The writing family's name, for staff (the notifications service knows only its id)."""
    if not staff:
        return None
    return (await family_names(request, [thread["family_id"]])).get(thread["family_id"])


def _posts(thread: dict[str, Any], _: Translate = _french) -> list[dict[str, Any]]:
    return [{**p, "when": when(p["created_at"], _)} for p in thread["posts"]]


async def _reply(request: web.Request, back: str) -> web.StreamResponse:
    message_id = _id(request.match_info["message_id"])
    if message_id is None:
        raise web.HTTPNotFound()
    form = await request.post()
    text = str(form.get("message", ""))[:60_000].strip()
    reply = await call_service(
        request,
        SERVICE,
        "POST",
        f"/contact-messages/{message_id}/replies",
        json={"body": text or " "},
    )
    if reply.status == 404:
        raise web.HTTPNotFound()
    if reply.ok:
        raise web.HTTPSeeOther(f"{back}/{message_id}?envoye=1")
    thread = await fetch_json(request, "notifications", f"/contact-messages/{message_id}")
    if thread is None:
        raise web.HTTPNotFound()
    identity = await require_signed_in(request)
    return await render(
        request,
        "notifications/thread.html",
        {
            "thread": thread,
            "posts": _posts(thread, translator_of(request)),
            "family_name": await _family_name(request, thread, identity.role == "staff"),
            "staff_view": identity.role == "staff",
            "sent": False,
            "action": f"{back}/{message_id}/repondre",
            "error": "Écrivez votre réponse (5 000 caractères au plus).",
        },
        status=reply.status,
    )


async def reply_as_family(request: web.Request) -> web.StreamResponse:
    """POST /contact/{message_id}/repondre."""
    await require_signed_in(request)
    return await _reply(request, "/contact")


# --- preferences ---------------------------------------------------------------------------


async def preferences_page(request: web.Request) -> web.StreamResponse:
    """GET /courriels: the optional e-mails the family receives."""
    identity = await require_signed_in(request)
    family_id = chosen_family(identity, request.query.get("famille"))
    data = None
    if family_id is not None:
        data = await fetch_json(
            request, "notifications", f"/families/{quote(family_id)}/email-preferences"
        )
    return await render(
        request,
        "notifications/preferences.html",
        {
            "family_id": family_id,
            "categories": None if data is None else data["categories"],
            "saved": "ok" in request.query,
        },
    )


async def save_preferences(request: web.Request) -> web.StreamResponse:
    """POST /courriels: each optional category checked or not."""
    identity = await require_signed_in(request)
    form = await request.post()
    family_id = chosen_family(identity, _field(form, "famille", 64))
    if family_id is None:
        raise web.HTTPSeeOther("/courriels")
    current = await fetch_json(
        request, "notifications", f"/families/{quote(family_id)}/email-preferences"
    )
    if current is None:
        raise web.HTTPSeeOther("/courriels")
    choices = {c["category"]: form.get(c["category"]) == "on" for c in current["categories"]}
    await call_service(
        request,
        SERVICE,
        "PUT",
        f"/families/{quote(family_id)}/email-preferences",
        json={"categories": choices},
    )
    raise web.HTTPSeeOther("/courriels?ok=1")


# --- staff ---------------------------------------------------------------------------------


async def inbox_page(request: web.Request) -> web.StreamResponse:
    """GET /agents/messages: the families' messages, those waiting for an answer first."""
    await require_staff_page(request)
    state = request.query.get("etat", "open")
    params = {"page_size": "100"} | ({"state": state} if state in ("open", "answered") else {})
    data = await fetch_json(request, "notifications", "/contact-messages", **params)
    items = None if data is None else data["items"]
    return await render(
        request,
        "notifications/inbox.html",
        {
            "threads": None
            if items is None
            else [
                {**t, "when": when(t["last_activity_at"], translator_of(request))} for t in items
            ],
            "state": state,
            # The notifications service knows a family by its id: the agent needs its name.
            "family_names": await family_names(request, (t["family_id"] for t in items or [])),
        },
    )


async def staff_thread_page(request: web.Request) -> web.StreamResponse:
    """GET /agents/messages/{message_id}: read and answer."""
    await require_staff_page(request)
    message_id = _id(request.match_info["message_id"])
    thread = (
        await fetch_json(request, "notifications", f"/contact-messages/{message_id}")
        if message_id
        else None
    )
    if thread is None:
        raise web.HTTPNotFound()
    return await render(
        request,
        "notifications/thread.html",
        {
            "thread": thread,
            "posts": _posts(thread, translator_of(request)),
            "family_name": await _family_name(request, thread, True),
            "staff_view": True,
            "sent": "envoye" in request.query,
            "action": f"/agents/messages/{message_id}/repondre",
            "error": None,
        },
    )


async def reply_as_staff(request: web.Request) -> web.StreamResponse:
    """POST /agents/messages/{message_id}/repondre: the family gets it by e-mail and here."""
    await require_staff_page(request)
    return await _reply(request, "/agents/messages")


async def recipients_page(request: web.Request) -> web.StreamResponse:
    """GET /agents/destinataires: who families may write to."""
    await require_staff_page(request)
    data = await fetch_json(request, "notifications", "/contact-recipients", all="true")
    return await render(
        request,
        "notifications/recipients.html",
        {
            "recipients": None if data is None else data["items"],
            "saved": "ok" in request.query,
            "error": None,
        },
    )


async def save_recipient(request: web.Request) -> web.StreamResponse:
    """POST /agents/destinataires[/{recipient_id}]: add or change a recipient."""
    await require_staff_page(request)
    form = await request.post()
    recipient_id = request.match_info.get("recipient_id")
    if recipient_id is not None and _id(recipient_id) is None:
        raise web.HTTPNotFound()
    position = _field(form, "ordre", 4)
    body = {
        "name": _field(form, "nom", 120),
        "email": _field(form, "adresse", 320),
        "active": form.get("actif") == "on",
        "position": int(position) if is_plain_number(position) else 0,
    }
    if recipient_id is None:
        reply = await call_service(request, SERVICE, "POST", "/contact-recipients", json=body)
    else:
        reply = await call_service(
            request, SERVICE, "PUT", f"/contact-recipients/{recipient_id}", json=body
        )
    if reply.ok:
        raise web.HTTPSeeOther("/agents/destinataires?ok=1")
    data = await fetch_json(request, "notifications", "/contact-recipients", all="true")
    return await render(
        request,
        "notifications/recipients.html",
        {
            "recipients": None if data is None else data["items"],
            "saved": False,
            "error": "Indiquez un nom et une adresse électronique valide.",
        },
        status=reply.status,
    )


async def news_page(request: web.Request) -> web.StreamResponse:
    """GET /agents/actualites: publish news on the families' dashboard."""
    await require_staff_page(request)
    return await _news_page(request, notice="Actualité publiée." if "ok" in request.query else None)


async def _news_page(
    request: web.Request, *, notice: str | None = None, error: str | None = None, status: int = 200
) -> web.Response:
    data, activities = await asyncio.gather(
        fetch_json(request, "notifications", "/news"), _catalogue_activities(request)
    )
    names = dict(activities or [])
    items = (
        None
        if data is None
        else [
            {
                **n,
                "from_day": formats_of(request).day(n["visible_from"], missing=""),
                "until_day": formats_of(request).day(n["visible_until"], missing=""),
                "activity_name": names.get(n.get("activity_id") or "", n.get("activity_id")),
            }
            for n in data["items"]
        ]
    )
    context = {"items": items, "activities": activities, "notice": notice, "error": error}
    return await render(request, "notifications/news.html", context, status=status)


async def _catalogue_activities(request: web.Request) -> list[tuple[str, str]] | None:
    """(id, name) of the bookings catalogue's activities by name; None when it does not answer."""
    data = await fetch_json(request, "bookings", "/activities")
    if not isinstance(data, dict):
        return None
    pairs = [(str(a["id"]), str(a["name"])) for a in data.get("items", [])]
    return sorted(pairs, key=lambda pair: pair[1].casefold())


def _paris_midnight(value: str) -> str | None:
    try:
        return datetime.combine(date.fromisoformat(value), time(0), PARIS).isoformat()
    except ValueError:
        return None


async def publish_news(request: web.Request) -> web.StreamResponse:
    """POST /agents/actualites: title, text, visible from/until (days, Paris), activity."""
    await require_staff_page(request)
    form = await request.post()
    start = _paris_midnight(_field(form, "debut", 10)) or datetime.now(PARIS).isoformat()
    end_day = _field(form, "fin", 10)
    end = _paris_midnight(end_day) if end_day else None
    if end_day and end is None:
        return await _news_page(request, error="Les dates s'écrivent JJ/MM/AAAA.", status=422)
    chosen = _field(form, "activite", 64)
    activity_id = _id(chosen)
    if chosen and (activity_id is None or not await _is_known_activity(request, activity_id)):
        # A mistyped activity must not turn into news for every family.
        error = "Cette activité n'existe pas dans le catalogue."
        return await _news_page(request, error=error, status=422)
    body = {
        "title": _field(form, "titre", 200),
        "text": str(form.get("texte", ""))[:5000].strip(),
        "visible_from": start,
        "visible_until": end,
        "activity_id": activity_id,
    }
    reply = await call_service(request, SERVICE, "POST", "/news", json=body)
    if not reply.ok:
        return await _news_page(
            request,
            error="Indiquez un titre, un texte, et une fin après le début.",
            status=reply.status,
        )
    raise web.HTTPSeeOther("/agents/actualites?ok=1")


async def _is_known_activity(request: web.Request, activity_id: str) -> bool:
    """Whether the catalogue has this activity; when bookings does not answer, trust the agent."""
    activities = await _catalogue_activities(request)
    return activities is None or activity_id in dict(activities)


async def withdraw_news(request: web.Request) -> web.StreamResponse:
    """POST /agents/actualites/{news_id}/retirer."""
    await require_staff_page(request)
    news_id = _id(request.match_info["news_id"])
    if news_id is None:
        raise web.HTTPNotFound()
    await call_service(request, SERVICE, "DELETE", f"/news/{news_id}")
    return await _news_page(request, notice="Actualité retirée.")


async def emails_page(request: web.Request) -> web.StreamResponse:
    """GET /agents/courriels: e-mails that failed (with the resend button), pending, sent."""
    await require_staff_page(request)
    state = request.query.get("etat", "failed")
    state = state if state in EMAIL_STATES else "failed"
    data = await fetch_json(request, "notifications", "/emails", state=state, page_size="100")
    return await render(
        request,
        "notifications/emails.html",
        {
            "emails": None
            if data is None
            else [
                {**e, "when": when(e["created_at"], translator_of(request))} for e in data["items"]
            ],
            "state": state,
            "states": EMAIL_STATES,
            "no_emails": NO_EMAILS[state],
            "notice": request.query.get("renvoye") and "Le courriel repart dans quelques secondes.",
        },
    )


async def resend_email(request: web.Request) -> web.StreamResponse:
    """POST /agents/courriels/{email_id}/renvoyer."""
    await require_staff_page(request)
    email_id = _id(request.match_info["email_id"])
    if email_id is None:
        raise web.HTTPNotFound()
    await call_service(request, SERVICE, "POST", f"/emails/{email_id}/resend")
    raise web.HTTPSeeOther("/agents/courriels?renvoye=1")


async def dead_letters_page(request: web.Request) -> web.StreamResponse:
    """GET /agents/lettres-mortes: events the consumer could not handle."""
    await require_staff_page(request)
    data = await fetch_json(request, "notifications", "/dead-letters", page_size="100")
    return await render(
        request,
        "notifications/dead_letters.html",
        {
            "letters": None
            if data is None
            else [
                {**d, "when": when(d["received_at"], translator_of(request))} for d in data["items"]
            ],
        },
    )


def register(app: web.Application) -> None:
    """Add the notifications pages."""
    app.router.add_get("/historique", history_page)
    app.router.add_get("/contact", contact_page)
    app.router.add_post("/contact", send_message)
    app.router.add_get("/contact/{message_id}", thread_page)
    app.router.add_post("/contact/{message_id}/repondre", reply_as_family)
    app.router.add_get("/courriels", preferences_page)
    app.router.add_post("/courriels", save_preferences)
    app.router.add_get("/agents/familles/{family_id}/historique", staff_history_page)
    app.router.add_get("/agents/messages", inbox_page)
    app.router.add_get("/agents/messages/{message_id}", staff_thread_page)
    app.router.add_post("/agents/messages/{message_id}/repondre", reply_as_staff)
    app.router.add_get("/agents/destinataires", recipients_page)
    app.router.add_post("/agents/destinataires", save_recipient)
    app.router.add_post("/agents/destinataires/{recipient_id}", save_recipient)
    app.router.add_get("/agents/actualites", news_page)
    app.router.add_post("/agents/actualites", publish_news)
    app.router.add_post("/agents/actualites/{news_id}/retirer", withdraw_news)
    app.router.add_get("/agents/courriels", emails_page)
    app.router.add_post("/agents/courriels/{email_id}/renvoyer", resend_email)
    app.router.add_get("/agents/lettres-mortes", dead_letters_page)
