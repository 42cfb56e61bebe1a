"""The simulator: `POST /ws` (SOAP), `GET|POST /paiementws.web` (the payment page).

Faithful to what the portal relies on: the SOAP operations and their fields, `idOp`, the
payment page where the tester chooses paid / refused / abandoned, the server-to-server
notification (`POST urlnotif` with `idop`), the browser's return (`urlredirect?idop=…`),
and the detail (`resultrans` P/R/A, `montant` in cents, `numauto`, `dattrans`, `heurtrans`).
Its fault codes are its own. Tests reach its state through the `SIMULATOR` app key to lose a
notification or tamper with a detail (a forged amount, another client number).
"""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from aiohttp import ClientError, ClientSession, ClientTimeout, web

from ..money import euros
from ..payfip import CREATE_FIELDS, envelope, parse_envelope

PARIS = ZoneInfo("Europe/Paris")
RULES = {
    "numcli": re.compile(r"^\d{6}$"),
    "exer": re.compile(r"^\d{4}$"),
    "refdet": re.compile(r"^[A-Za-z0-9]{6,30}$"),
    "montant": re.compile(r"^\d{1,9}$"),
    "mel": re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$"),
    "saisie": re.compile(r"^[TXW]$"),
    "urlnotif": re.compile(r"^https?://\S{1,500}$"),
    "urlredirect": re.compile(r"^https?://\S{1,500}$"),
    "objet": re.compile(r"^.{0,100}$"),
}
MIN_CENTS = 100  # PayFiP refuses less than 1 €


@dataclass
class Operation:
    """One payment the simulator was asked to create."""

    idop: str
    fields: dict[str, str]
    resultrans: str | None = None
    numauto: str = ""
    dattrans: str = ""
    heurtrans: str = ""


@dataclass
class SimulatorState:
    """Operations in memory, and switches for the tests."""

    operations: dict[str, Operation] = field(default_factory=dict)
    lose_notifications: bool = False
    # Values a test forces into the next details (e.g. {"montant": "1"}): a forged detail.
    tamper: dict[str, str] = field(default_factory=dict)
    notifications_sent: int = 0
    detail_calls: int = 0


SIMULATOR: web.AppKey[SimulatorState] = web.AppKey("payfip_simulator", SimulatorState)
HTTP: web.AppKey[ClientSession] = web.AppKey("payfip_simulator_http", ClientSession)


def _fault(code: str, label: str) -> web.Response:
    body = envelope("Fault", {"code": code, "libelle": label})
    return web.Response(status=500, text=body, content_type="text/xml")


async def soap(request: web.Request) -> web.Response:
    """The two web-service operations."""
    state = request.app[SIMULATOR]
    try:
        operation, values = parse_envelope(await request.read())
    except Exception:
        return _fault("S0", "Message SOAP illisible")
    if operation == "creerPaiementSecurise":
        for name in CREATE_FIELDS:
            value = values.get(name, "")
            if not RULES[name].match(value):
                return _fault("P1", f"Paramètre {name} absent ou invalide")
        if int(values["montant"]) < MIN_CENTS:
            return _fault("P2", "Montant inférieur au minimum (1 €)")
        idop = secrets.token_hex(16)
        state.operations[idop] = Operation(idop, dict(values))
        return web.Response(
            text=envelope("creerPaiementSecuriseResponse", {"idOp": idop}), content_type="text/xml"
        )
    if operation == "recupererDetailPaiementSecurise":
        state.detail_calls += 1
        found = state.operations.get(values.get("idOp", ""))
        if found is None:
            return _fault("P3", "Identifiant d'opération inconnu")
        if found.resultrans is None:
            return _fault("P5", "Transaction non finalisée")
        detail = {
            **{
                k: found.fields[k]
                for k in ("exer", "mel", "montant", "numcli", "objet", "refdet", "saisie")
            },
            "idOp": found.idop,
            "resultrans": found.resultrans,
            "numauto": found.numauto,
            "dattrans": found.dattrans,
            "heurtrans": found.heurtrans,
            **state.tamper,
        }
        return web.Response(
            text=envelope("recupererDetailPaiementSecuriseResponse", detail),
            content_type="text/xml",
        )
    return _fault("S1", f"Opération inconnue : {operation}")


PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>PayFiP — simulateur</title></head><body>
<main><h1>PayFiP (simulateur hors ligne)</h1>
<p>Paiement de <strong data-amount>{amount}</strong> — {objet}</p>
<p>Référence : {refdet} — exercice {exer}</p>
<form method="post"><input type="hidden" name="idop" value="{idop}">
<button name="choix" value="P">Payer</button>
<button name="choix" value="R">Simuler un refus</button>
<button name="choix" value="A">Abandonner</button></form></main></body></html>"""


async def page(request: web.Request) -> web.StreamResponse:
    """GET: the payment page; POST: the tester's choice, then notification and return."""
    state = request.app[SIMULATOR]
    if request.method == "GET":
        found = state.operations.get(request.query.get("idop", ""))
        if found is None:
            raise web.HTTPNotFound(text="Opération inconnue")
        return web.Response(
            text=PAGE.format(
                amount=euros(int(found.fields["montant"])),
                objet=html.escape(found.fields["objet"]),
                refdet=html.escape(found.fields["refdet"]),
                exer=found.fields["exer"],
                idop=found.idop,
            ),
            content_type="text/html",
        )
    form = await request.post()
    found = state.operations.get(str(form.get("idop", "")))
    choice = str(form.get("choix", ""))
    if found is None or choice not in ("P", "R", "A"):
        raise web.HTTPBadRequest(text="Choix invalide")
    if found.resultrans is None:
        now = datetime.now(PARIS)
        found.resultrans = choice
        found.numauto = secrets.token_hex(3).upper() if choice == "P" else ""
        found.dattrans = f"{now:%d%m%Y}"
        found.heurtrans = f"{now:%H%M}"
        if not state.lose_notifications:
            await _notify(request.app[HTTP], found)
            state.notifications_sent += 1
    back = found.fields["urlredirect"]
    raise web.HTTPSeeOther(f"{back}{'&' if '?' in back else '?'}idop={found.idop}")


async def _notify(http: ClientSession, operation: Operation) -> None:
    try:
        async with http.post(
            operation.fields["urlnotif"], data={"idop": operation.idop}
        ) as response:
            await response.read()
    except (ClientError, TimeoutError):
        pass  # like PayFiP: a lost notification is the merchant's to reconcile


async def _http_ctx(app: web.Application) -> AsyncIterator[None]:
    app[HTTP] = ClientSession(timeout=ClientTimeout(total=10))
    yield
    await app[HTTP].close()


def create_simulator(state: SimulatorState | None = None) -> web.Application:
    """The simulator as an aiohttp app (mounted under /payfip-simulator by billing)."""
    app = web.Application()
    app[SIMULATOR] = state or SimulatorState()
    app.cleanup_ctx.append(_http_ctx)
    app.router.add_post("/ws", soap)
    app.router.add_get("/paiementws.web", page)
    app.router.add_post("/paiementws.web", page)
    return app
