"""PayFiP (DGFiP, formerly TIPI) in web-service mode: SOAP calls made by this server only.

- `creerPaiementSecurise(numcli, exer, refdet, montant, mel, objet, saisie, urlnotif,
  urlredirect)` → `idOp`; the browser is then sent to `{page}?idop={idOp}`.
- `recupererDetailPaiementSecurise(idOp)` → `numcli, exer, refdet, montant, mel, objet,
  saisie, resultrans, numauto, dattrans, heurtrans, idOp`. `resultrans`: P (paid by card)
  or V (paid by direct debit), R (refused), A (abandoned).

Only the detail this server asked for settles an invoice: neither the browser's return nor
the notification's content is believed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeET
from aiohttp import ClientError, ClientSession

from .errors import PayfipUnavailable

NAMESPACE = "http://securite.service.tpa.cp.finances.gouv.fr/services/mas_securite/contrat_paiement_securise/PaiementSecuriseService"
ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    f'xmlns:pai="{NAMESPACE}"><soapenv:Header/><soapenv:Body>'
    "<pai:{operation}><arg0>{fields}</arg0></pai:{operation}>"
    "</soapenv:Body></soapenv:Envelope>"
)
PAID = ("P", "V")
CREATE_FIELDS = (
    "exer",
    "mel",
    "montant",
    "numcli",
    "objet",
    "refdet",
    "saisie",
    "urlnotif",
    "urlredirect",
)
DETAIL_FIELDS = (
    "dattrans", "exer", "heurtrans", "idOp", "mel", "montant", "numauto", "numcli", "objet",
    "refdet", "resultrans", "saisie",
)  # fmt: skip


class PayfipFault(Exception):
    """A SOAP fault: PayFiP refused the call (the code and label are PayFiP's)."""

    def __init__(self, code: str, label: str) -> None:
        super().__init__(f"{code}: {label}")
        self.code = code
        self.label = label


def envelope(operation: str, values: dict[str, str]) -> str:
    """A SOAP 1.1 request for `operation` with `values` as the fields of `arg0`."""
    fields = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in values.items())
    return ENVELOPE.format(operation=operation, fields=fields)


def parse_envelope(body: bytes) -> tuple[str, dict[str, str]]:
    """(operation or 'Fault', the leaf fields) of a SOAP message; defused against XML bombs."""
    root = SafeET.fromstring(body)
    soap_body = next((e for e in root if e.tag.endswith("Body")), None)
    if soap_body is None or len(soap_body) == 0:
        raise ValueError("no SOAP body")
    call = soap_body[0]
    operation = call.tag.rsplit("}", 1)[-1]
    values: dict[str, str] = {}
    for element in call.iter():
        if len(element) == 0 and element is not call:
            values[element.tag.rsplit("}", 1)[-1]] = (element.text or "").strip()
    return operation, values


@dataclass(frozen=True)
class PaymentRequest:
    """What `creerPaiementSecurise` receives."""

    numcli: str
    exer: str
    refdet: str
    montant: int  # cents
    mel: str
    objet: str
    saisie: str
    urlnotif: str
    urlredirect: str


class PayfipClient:
    """The two calls of the web service, against the real PayFiP or the simulator."""

    def __init__(self, http: ClientSession, ws_url: str, page_url: str) -> None:
        self.http = http
        self.ws_url = ws_url
        self.page_url = page_url

    async def _call(self, operation: str, values: dict[str, str]) -> dict[str, str]:
        try:
            async with self.http.post(
                self.ws_url,
                data=envelope(operation, values).encode(),
                headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
            ) as response:
                body = await response.read()
        except (ClientError, TimeoutError) as exc:
            raise PayfipUnavailable(f"PayFiP n'a pas répondu : {type(exc).__name__}.") from None
        try:
            name, fields = parse_envelope(body)
        except Exception:
            raise PayfipUnavailable("PayFiP a répondu par un message illisible.") from None
        if name == "Fault":
            raise PayfipFault(
                fields.get("code", fields.get("faultcode", "?")),
                fields.get("libelle", fields.get("faultstring", "")),
            )
        return fields

    async def create(self, request: PaymentRequest) -> str:
        """Create the payment; returns PayFiP's `idOp`."""
        values = {
            "exer": request.exer,
            "mel": request.mel,
            "montant": str(request.montant),
            "numcli": request.numcli,
            "objet": request.objet,
            "refdet": request.refdet,
            "saisie": request.saisie,
            "urlnotif": request.urlnotif,
            "urlredirect": request.urlredirect,
        }
        fields = await self._call("creerPaiementSecurise", values)
        idop = fields.get("idOp", "")
        if not idop:
            raise PayfipUnavailable("PayFiP n'a pas donné d'identifiant d'opération.")
        return idop

    async def detail(self, idop: str) -> dict[str, str]:
        """The payment's detail as PayFiP knows it; PayfipFault while not finished."""
        return await self._call("recupererDetailPaiementSecurise", {"idOp": idop})

    def redirect_url(self, idop: str) -> str:
        """Where the browser goes to pay."""
        return f"{self.page_url}?idop={idop}"


def simulator_client(http: ClientSession, base: str) -> PayfipClient:
    """A client of the simulator mounted at `base` (…/payfip-simulator)."""
    return PayfipClient(http, f"{base}/ws", f"{base}/paiementws.web")


def summarize(detail: dict[str, Any]) -> dict[str, str]:
    """The detail's known fields only (what is kept on the attempt)."""
    return {k: str(detail[k]) for k in DETAIL_FIELDS if k in detail}
