""" "Mes factures" (`/factures`), the return from PayFiP, and the staff's invoicing pages.

Every rule lives in the billing service; these pages call it as the signed-in visitor and
show its answer (refusals carry a precise French `detail`). The PDF links go to
`/api/billing/…` (served by the service as attachments, only to the owning family). Paying
posts to this page, which asks billing to create the PayFiP payment and sends the browser
to PayFiP's page (the offline simulator in dev); the way back lands on `/factures/paiement`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web

from services.billing.line_labels import ATTENDANCE, UNIT_LABELS
from services.billing.payment_methods import METHOD_LABELS, RECORDED_METHODS
from services.kit.identity import Identity

from ..calls import call_service, chosen_family, fetch_json
from ..formats import formats_of
from ..i18n import translator_of
from ..numbers import is_plain_number
from ..paris_time import PARIS
from ..rendering import render
from ..service_messages import problem_text
from ..session import require_signed_in, require_staff_page
from .notifications import MONTHS

ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
FAMILY_ID = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
# A town issues thousands of invoices a month: the staff list shows them a page at a time.
INVOICES_PER_PAGE = 50
MAX_PAGE = 10_000
VIEWS = {"a_payer": "to_pay", "soldees": "settled", "toutes": "all"}
ATTEMPT_MESSAGES = {
    "paid": ("ok", "Votre paiement a été enregistré. Merci."),
    "refused": ("error", "Le paiement a été refusé par votre banque. Rien n'a été débité."),
    "abandoned": ("error", "Vous avez abandonné le paiement. Rien n'a été débité."),
    "expired": ("error", "Le paiement n'a pas abouti dans le délai. Rien n'a été débité."),
    "rejected": (
        "error",
        "Le paiement n'a pas pu être vérifié auprès du Trésor Public : la structure va "
        "le contrôler.",
    ),
    "pending": ("wait", "Votre paiement est en cours de vérification auprès de PayFiP."),
}
EARLIER_PAID = (
    "Le paiement en ligne commencé plus tôt pour cette facture a abouti : elle est réglée. "
    "Rien de plus n'a été débité."
)


def month_parts(value: str | None) -> tuple[str, str]:
    """`2026-10` → (`octobre`, `2026`): the month's French name (translated by the page)."""
    text = value or ""
    if re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        return MONTHS[int(text[5:]) - 1], text[:4]
    return text, ""


def _id(value: Any) -> str | None:
    text = str(value or "")
    return text if ID.match(text) else None


def _problem_type(data: Any) -> str:
    """The slug of a service's problem type (`…/problems/payment-completed` → the slug)."""
    kind = data.get("type") if isinstance(data, dict) else None
    return kind.rsplit("/", 1)[-1] if isinstance(kind, str) else ""


def api(path: str) -> str:
    """The browser-side address of a billing API path (through the gateway's proxy)."""
    return "/api/billing" + path


def _context(**values: Any) -> dict[str, Any]:
    return {
        "month_parts": month_parts,
        "api": api,
        **values,
    }


# --- families ----------------------------------------------------------------------------


async def _invoices_page(
    request: web.Request, identity: Identity, *, error: str | None = None, status: int = 200
) -> web.Response:
    family_id = chosen_family(identity, request.query.get("famille"))
    view = request.query.get("vue", "a_payer")
    view = view if view in VIEWS else "a_payer"
    year = request.query.get("annee", "")
    number = re.sub(r"[^A-Za-z0-9]", "", request.query.get("numero", ""))[:20]
    listed = None
    if family_id is not None:
        params = {"state": VIEWS[view]}
        if is_plain_number(year) and len(year) == 4:
            params["year"] = year
        if number:
            params["number"] = number
        listed = await fetch_json(
            request, "billing", f"/families/{quote(family_id)}/invoices", **params
        )
    context = _context(
        family_id=family_id,
        view=view,
        year=year if is_plain_number(year) else "",
        number=number,
        listed=listed,
        error=error,
        today=datetime.now(PARIS).date(),
    )
    return await render(request, "billing/factures.html", context, status=status)


async def invoices_page(request: web.Request) -> web.StreamResponse:
    """GET /factures: to pay by default (« À PAYER »), the settled history (« SOLDÉES »)."""
    identity = await require_signed_in(request)
    return await _invoices_page(request, identity)


async def pay(request: web.Request) -> web.StreamResponse:
    """POST /factures/payer: create the PayFiP payment, then go to PayFiP's page."""
    identity = await require_signed_in(request)
    form = await request.post()
    family_id = chosen_family(identity, str(form.get("famille", "")))
    invoice_id = _id(form.get("facture"))
    if family_id is None or invoice_id is None:
        raise web.HTTPSeeOther("/factures")
    reply = await call_service(
        request, "billing", "POST", f"/families/{quote(family_id)}/invoices/{invoice_id}/payfip"
    )
    if reply.ok and isinstance(reply.data, dict) and reply.data.get("redirect_url"):
        # Not a 303: the pages' CSP (`form-action 'self'`) forbids a form whose answer
        # redirects to another origin. A page that moves on by itself (meta refresh, no
        # script) with a plain link as fallback reaches PayFiP instead.
        target = str(reply.data["redirect_url"])
        return await render(request, "billing/redirection.html", _context(target=target))
    if reply.status == 409 and _problem_type(reply.data) == "payment-completed":
        # The earlier attempt (the parent left PayFiP's page) went through after all.
        attempt_id = _id(reply.data.get("attempt_id"))
        if attempt_id is not None:
            raise web.HTTPSeeOther(f"/factures/paiement?tentative={attempt_id}&precedent=1")
    detail = problem_text(
        request, reply.data, "Le paiement en ligne n'a pas pu commencer. Réessayez."
    )
    return await _invoices_page(request, identity, error=detail, status=reply.status)


async def payment_page(request: web.Request) -> web.StreamResponse:
    """GET /factures/paiement?tentative=…: what became of an online payment."""
    identity = await require_signed_in(request)
    attempt_id = _id(request.query.get("tentative"))
    attempt = None
    if attempt_id is not None:
        for membership in identity.memberships:
            attempt = await fetch_json(
                request, "billing", f"/families/{quote(membership.family_id)}/payfip/{attempt_id}"
            )
            if attempt is not None:
                break
    if attempt is None:
        raise web.HTTPNotFound()
    kind, message = ATTEMPT_MESSAGES.get(attempt["state"], ATTEMPT_MESSAGES["pending"])
    if attempt["state"] == "paid" and request.query.get("precedent") == "1":
        message = EARLIER_PAID
    context = _context(attempt=attempt, kind=kind, message=message)
    return await render(request, "billing/paiement.html", context)


# --- staff -------------------------------------------------------------------------------


async def _runs_page(
    request: web.Request, *, error: str | None = None, status: int = 200
) -> web.Response:
    runs = await fetch_json(request, "billing", "/runs")
    today = datetime.now(PARIS).date()
    previous = date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
    context = _context(
        runs=None if runs is None else runs["items"],
        error=error,
        suggested=f"{previous:%Y-%m}",
    )
    return await render(request, "billing/runs.html", context, status=status)


async def runs_page(request: web.Request) -> web.StreamResponse:
    """GET /agents/facturation: runs, the form to prepare a month, the CSV exports."""
    await require_staff_page(request)
    return await _runs_page(request)


async def prepare(request: web.Request) -> web.StreamResponse:
    """POST /agents/facturation: prepare a month's preview."""
    await require_staff_page(request)
    form = await request.post()
    month = str(form.get("mois", ""))[:7]
    if not MONTH.match(month):
        return await _runs_page(request, error="Indiquez un mois (AAAA-MM).", status=422)
    reply = await call_service(request, "billing", "POST", "/runs", json={"month": month})
    if not reply.ok:
        detail = problem_text(request, reply.data, "La facturation n'a pas pu être préparée.")
        return await _runs_page(request, error=detail, status=reply.status)
    raise web.HTTPSeeOther(f"/agents/facturation/{reply.data['id']}")


# What `?ok=` may say on a run's page: a key, never the text itself, so that an address
# someone sends an agent cannot put its own words on the town's page.
RUN_NOTICES = {"emises": "Factures émises.", "abandonne": "Aperçu abandonné."}


async def run_page(request: web.Request) -> web.StreamResponse:
    """GET /agents/facturation/{run_id}: the preview (or the published run)."""
    await require_staff_page(request)
    return await _run_page(request, notice=RUN_NOTICES.get(request.query.get("ok", "")))


async def _run_page(
    request: web.Request, *, notice: str | None = None, error: str | None = None, status: int = 200
) -> web.Response:
    run_id = _id(request.match_info["run_id"])
    run = await fetch_json(request, "billing", f"/runs/{run_id}") if run_id else None
    if run is None:
        raise web.HTTPNotFound()
    formats = formats_of(request)
    context = _context(
        run=run,
        error=error,
        notice=notice,
        # A month not over yet: its reservations may still change after the invoices go out.
        month_open=run["month"] >= f"{datetime.now(PARIS).date():%Y-%m}",
        # Each draft's lines, for the agent to check before publishing (the count alone
        # told nothing of what would be billed).
        day_shown=lambda day: formats.short_day(day, year=False),
        prepared_at=formats.minute(run.get("created_at")),
        attendance_label=lambda code: ATTENDANCE.get(code, code),
        unit_label=lambda code: UNIT_LABELS.get(code, code),
    )
    return await render(request, "billing/run.html", context, status=status)


async def run_action(request: web.Request) -> web.StreamResponse:
    """POST /agents/facturation/{run_id}/{publier|abandonner}."""
    await require_staff_page(request)
    run_id = _id(request.match_info["run_id"])
    action = {"publier": "publish", "abandonner": "discard"}.get(request.match_info["action"])
    if run_id is None or action is None:
        raise web.HTTPNotFound()
    reply = await call_service(
        request, "billing", "POST", f"/runs/{run_id}/{action}", deadline=300.0
    )
    if not reply.ok:
        detail = problem_text(request, reply.data, "L'opération a échoué.")
        return await _run_page(request, error=detail, status=reply.status)
    done = "emises" if action == "publish" else "abandonne"
    raise web.HTTPSeeOther(f"/agents/facturation/{run_id}?ok={done}")


@dataclass(frozen=True)
class FamilySearch:
    """What staff typed in « Famille »: a name searched in the families service."""

    text: str
    found: list[dict[str, Any]] | None  # None: the families service did not answer
    too_short: bool = False


async def _search_families(request: web.Request, text: str) -> FamilySearch:
    """Families whose name (a person's name, an e-mail) matches, through /agents/familles' API."""
    if len(text) < 2:
        return FamilySearch(text, [], too_short=True)
    result = await fetch_json(request, "families", "/staff/families", q=text, size="20")
    return FamilySearch(text, None if result is None else list(result["items"]))


async def _invoices_staff_page(
    request: web.Request, *, notice: str | None = None, error: str | None = None, status: int = 200
) -> web.Response:
    typed = request.query.get("famille", "").strip()[:100]
    # A raw id (links from the runs, the statement) still chooses the family directly.
    family_id = typed if FAMILY_ID.match(typed) else None
    search = await _search_families(request, typed) if typed and not family_id else None
    page = _page_number(request.query.get("page", ""))
    params = {"limit": str(INVOICES_PER_PAGE), "offset": str((page - 1) * INVOICES_PER_PAGE)}
    if family_id:
        params["family_id"] = family_id
    listed = await fetch_json(request, "billing", "/staff/invoices", **params)
    statement = (
        await fetch_json(request, "billing", f"/families/{family_id}/statement")
        if family_id
        else None
    )
    context = _context(
        listed=listed,
        family_id=family_id or "",
        search=search,
        statement=statement,
        pages=_pages(page, _total(listed), famille=family_id or typed),
        notice=notice,
        error=error,
        methods=[(code, METHOD_LABELS[code]) for code in RECORDED_METHODS],
        today=datetime.now(PARIS).date().isoformat(),
    )
    return await render(request, "billing/staff_invoices.html", context, status=status)


def _total(listed: dict[str, Any] | None) -> int:
    """How many invoices the filter holds; a billing without pages (an older replica during
    a rolling update) answered them all, so its items are the total."""
    if listed is None:
        return 0
    return int(listed.get("total", len(listed["items"])))


def _page_number(value: str) -> int:
    """`?page=` as a page number from 1; anything else (typed, forged) is the first page.
    ASCII digits only, and few of them: int() refuses « ² » and more than 4,300 digits."""
    plain = is_plain_number(value) and len(value) <= len(str(MAX_PAGE))
    return int(value) if plain and 0 < int(value) <= MAX_PAGE else 1


def _pages(page: int, total: int, **filters: str) -> dict[str, Any]:
    """« Page précédente — Page 2 sur 5 — Page suivante »: each link keeps the filters."""
    kept = {name: value for name, value in filters.items() if value}
    return {
        "current": page,
        "count": max(1, -(-total // INVOICES_PER_PAGE)),
        "total": total,
        "previous": urlencode({**kept, "page": page - 1}) if page > 1 else None,
        "next": urlencode({**kept, "page": page + 1}) if page * INVOICES_PER_PAGE < total else None,
    }


async def staff_invoices_page(request: web.Request) -> web.StreamResponse:
    """GET /agents/factures?famille=…: invoices, the family's statement, a payment form."""
    await require_staff_page(request)
    return await _invoices_staff_page(request)


async def credit(request: web.Request) -> web.StreamResponse:
    """POST /agents/factures/{invoice_id}/avoir: cancel with a credit note (and reissue)."""
    await require_staff_page(request)
    invoice_id = _id(request.match_info["invoice_id"])
    form = await request.post()
    body = {
        "reason": str(form.get("motif", ""))[:500].strip(),
        "reissue": form.get("reemettre") == "1",
    }
    reply = await call_service(
        request, "billing", "POST", f"/invoices/{invoice_id}/credit", json=body
    )
    if not reply.ok:
        detail = problem_text(request, reply.data, "L'avoir n'a pas pu être émis.")
        return await _invoices_staff_page(request, error=detail, status=reply.status)
    note = reply.data["credit_note"]["number"]
    return await _invoices_staff_page(
        request, notice=translator_of(request)("Avoir {note} émis.", note=note)
    )


async def transmit(request: web.Request) -> web.StreamResponse:
    """POST /agents/factures/{invoice_id}/tresor: hand an unpaid invoice to the Treasury."""
    await require_staff_page(request)
    invoice_id = _id(request.match_info["invoice_id"])
    reply = await call_service(request, "billing", "POST", f"/invoices/{invoice_id}/transmit")
    if not reply.ok:
        detail = problem_text(request, reply.data, "La facture n'a pas pu être transmise.")
        return await _invoices_staff_page(request, error=detail, status=reply.status)
    number = reply.data["number"]
    return await _invoices_staff_page(
        request,
        notice=translator_of(request)("{number} transmise au Trésor Public.", number=number),
    )


def cents_of(text: str) -> int | None:
    """`12,50` or `12.50` euros → 1250 cents; None when not an amount."""
    try:
        value = Decimal(text.replace(" ", "").replace(",", "."))
        # NaN cannot be compared, and 1e999 cannot be rounded to cents: both raise.
        if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
            return None
    except InvalidOperation:
        return None
    return int(value * 100)


async def record_payment(request: web.Request) -> web.StreamResponse:
    """POST /agents/reglements: record a payment for a family (allocated oldest first)."""
    await require_staff_page(request)
    form = await request.post()
    cents = cents_of(str(form.get("montant", ""))[:20])
    if cents is None:
        return await _invoices_staff_page(
            request, error="Montant invalide : indiquez des euros, par exemple 12,50.", status=422
        )
    body = {
        "family_id": str(form.get("famille", ""))[:36],
        "amount_cents": cents,
        "method": str(form.get("mode", "")),
        "reference": str(form.get("reference", ""))[:80] or None,
        "received_on": str(form.get("date", ""))[:10],
    }
    reply = await call_service(request, "billing", "POST", "/payments", json=body)
    if not reply.ok:
        detail = problem_text(request, reply.data, "Le règlement n'a pas été enregistré.")
        return await _invoices_staff_page(request, error=detail, status=reply.status)
    return await _invoices_staff_page(
        request,
        notice=translator_of(request)(
            "Règlement enregistré : reçu {receipt}.", receipt=reply.data["receipt_number"]
        ),
    )


def register(app: web.Application) -> None:
    """Add the billing pages."""
    app.router.add_get("/factures", invoices_page)
    app.router.add_post("/factures/payer", pay)
    app.router.add_get("/factures/paiement", payment_page)
    app.router.add_get("/agents/facturation", runs_page)
    app.router.add_post("/agents/facturation", prepare)
    app.router.add_get("/agents/facturation/{run_id}", run_page)
    app.router.add_post("/agents/facturation/{run_id}/{action}", run_action)
    app.router.add_get("/agents/factures", staff_invoices_page)
    app.router.add_post("/agents/factures/{invoice_id}/avoir", credit)
    app.router.add_post("/agents/factures/{invoice_id}/tresor", transmit)
    app.router.add_post("/agents/reglements", record_payment)
