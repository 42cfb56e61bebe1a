"""The staff's invoicing pages through the real gateway: prepare, publish, credit, record a
payment; and the family's page answering in French when a payment cannot start."""

from __future__ import annotations

import html
import re
import secrets
import string
from datetime import date

from gateway.i18n import load_catalogs
from services.billing import clock
from services.billing.payment_methods import RECORDED_METHODS, method_label
from services.kit.typography import french_spacing
from tests.gateway.conftest import same_origin
from tests.gateway.fakes import PASSWORD

from . import scenario
from .conftest import Portal
from .test_payments import choose, issued_invoice, payments_of, simulator, start


async def sign_in(portal: Portal, email: str) -> str:
    """Sign in through the form; returns the session's CSRF token."""
    client = portal.gateway
    response = await client.post(
        "/connexion",
        data={"email": email, "password": PASSWORD},
        headers=same_origin(client),
        allow_redirects=False,
    )
    assert response.status in (302, 303), await response.text()
    page = await (await client.get("/factures")).text()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, page
    return token.group(1)


async def post(portal: Portal, path: str, token: str, **form: str) -> tuple[int, str]:
    response = await portal.gateway.post(
        path, data={"csrf_token": token, **form}, headers=same_origin(portal.gateway)
    )
    return response.status, html.unescape(await response.text())


async def test_staff_prepare_publish_credit_and_record_a_payment_from_the_pages(
    portal: Portal,
) -> None:
    await scenario.tariffs(portal)
    fam = await scenario.march(portal)
    token = await sign_in(portal, "agent@example.org")

    status, page = await post(portal, "/agents/facturation", token, mois="2026-03")
    assert status == 200, page
    assert (
        "4 factures — total 91,81\u00a0€" in page
        and french_spacing("aperçu : rien n'est encore émis") in page
    )
    assert french_spacing("Facturation : mars 2026") in page and "2026-03</h1>" not in page
    run_id = re.search(r"/agents/facturation/([0-9a-f-]{36})/publier", page).group(1)
    status, page = await post(portal, f"/agents/facturation/{run_id}/publier", token)
    assert status == 200 and "Factures émises." in page
    # A refused action is said on the page it was asked from, with the service's status.
    status, page = await post(portal, f"/agents/facturation/{run_id}/abandonner", token)
    assert status == 409 and 'role="alert"' in page, page
    # An address cannot put its own words on the page: `ok` is a key, `erreur` is not read.
    forged = "Appelez vite le 0899 123 456"
    for query in (f"ok={forged}", f"erreur={forged}"):
        page = await (await portal.gateway.get(f"/agents/facturation/{run_id}?{query}")).text()
        assert forged not in html.unescape(page) and 'role="alert"' not in page
    status, page = await post(portal, "/agents/facturation", token, mois="2026-03")
    assert status == 409 and "déjà facturé" in page

    invoices = await (await portal.gateway.get(f"/agents/factures?famille={fam.alpha}")).text()
    alpha = (await portal.invoices(fam.alpha))["items"][0]
    assert alpha["number"] in invoices and "26,80\u00a0€" in invoices
    status, page = await post(
        portal,
        f"/agents/reglements?famille={fam.alpha}",
        token,
        famille=fam.alpha,
        montant="12,5",
        mode="cheque",
        reference="CHQ 1",
        date=clock.today().isoformat(),
    )
    assert status == 200 and french_spacing("Règlement enregistré : reçu R") in page
    assert (await portal.invoices(fam.alpha))["items"][0]["balance_cents"] == 1430
    status, page = await post(
        portal,
        f"/agents/reglements?famille={fam.alpha}",
        token,
        famille=fam.alpha,
        montant="12,505",
        mode="cheque",
        date=clock.today().isoformat(),
    )
    assert status == 422 and "Montant invalide" in page
    for amount in ("NaN", "1e999", "Infinity"):  # Decimal reads them; comparing them was a 500
        status, page = await post(
            portal, f"/agents/reglements?famille={fam.alpha}", token,
            famille=fam.alpha, montant=amount, mode="cheque", date=clock.today().isoformat(),
        )  # fmt: skip
        assert status == 422 and "Montant invalide" in page, amount
    assert (await portal.invoices(fam.alpha))["items"][0]["balance_cents"] == 1430

    bravo = (await portal.invoices(fam.bravo))["items"][0]
    status, page = await post(
        portal,
        f"/agents/factures/{bravo['id']}/avoir?famille={fam.bravo}",
        token,
        motif="Absence justifiée après coup",
        reemettre="1",
    )
    assert status == 200 and re.search(r"Avoir A\d{9} émis\.", page)
    states = {i["state"] for i in (await portal.invoices(fam.bravo))["items"]}
    assert states == {"cancelled", "paid", "issued"}

    charlie = (await portal.invoices(fam.charlie))["items"][0]
    status, page = await post(portal, f"/agents/factures/{charlie['id']}/tresor", token)
    assert status == 200 and f"{charlie['number']} transmise au Trésor Public." in page
    assert (await portal.invoices(fam.charlie))["items"][0]["state_label"] == (
        "Transmise au Trésor Public"
    )
    status, page = await post(portal, f"/agents/factures/{charlie['id']}/tresor", token)
    assert status == 409 and "seule une facture à payer" in page


async def test_parents_get_a_french_refusal_on_staff_pages(portal: Portal) -> None:
    family, _ = await issued_invoice(portal)
    portal.auth.accounts["famille.test@example.org"] = [family]
    await sign_in(portal, "famille.test@example.org")
    response = await portal.gateway.get("/agents/facturation")
    assert response.status == 403
    assert "réservée aux agents" in await response.text() or "Accès refusé" in await response.text()


async def test_paying_a_settled_invoice_says_why_on_the_page(portal: Portal) -> None:
    family, invoice = await issued_invoice(portal)
    portal.auth.accounts["famille.test@example.org"] = [family]
    await portal.billing.post(
        "/payments",
        json={
            "family_id": family,
            "amount_cents": 2400,
            "method": "cheque",
            "received_on": clock.today().isoformat(),
        },
        headers=portal.staff,
    )
    token = await sign_in(portal, "famille.test@example.org")
    status, page = await post(
        portal, "/factures/payer", token, famille=family, facture=invoice["id"]
    )
    assert (
        status == 409
        and "pas payable en ligne" in page
        and french_spacing("solde : 0,00\u00a0€") in page
    )


async def pay_online(portal: Portal, token: str, family: str, invoice_id: str) -> tuple[int, str]:
    """Press « Payer en ligne (TIPI) » on « Mes factures »."""
    return await post(portal, "/factures/payer", token, famille=family, facture=invoice_id)


def payfip_target(page: str) -> str:
    """The PayFiP address the redirection page moves on to."""
    found = re.search(r'url=([^"]+)"', page)
    assert found, page
    return found.group(1)


async def test_a_parent_back_from_payfip_without_paying_pays_again_from_the_page(
    portal: Portal,
) -> None:
    family, invoice = await issued_invoice(portal)
    portal.auth.accounts["famille.test@example.org"] = [family]
    token = await sign_in(portal, "famille.test@example.org")
    status, page = await post(
        portal, "/factures/payer", token, famille=family, facture=invoice["id"]
    )
    assert status == 200 and "Continuer vers PayFiP" in page
    first = payfip_target(page)
    # The parent comes back later than a double click would.
    await portal.sql("UPDATE payment_attempts SET created_at = now() - interval '2 minutes'")

    status, page = await post(
        portal, "/factures/payer", token, famille=family, facture=invoice["id"]
    )

    assert status == 200 and "Continuer vers PayFiP" in page, page
    assert payfip_target(page) != first
    assert "déjà en cours" not in page


async def test_an_earlier_payment_that_went_through_is_shown_as_paid_not_paid_twice(
    portal: Portal,
) -> None:
    family, invoice = await issued_invoice(portal)
    portal.auth.accounts["famille.test@example.org"] = [family]
    token = await sign_in(portal, "famille.test@example.org")
    simulator(portal).lose_notifications = True
    status, page = await post(
        portal, "/factures/payer", token, famille=family, facture=invoice["id"]
    )
    target = payfip_target(page)
    idop = target.rsplit("=", 1)[-1]
    await choose(portal, {"redirect_url": target, "idop": idop}, "P")  # then the tab is closed

    status, page = await post(
        portal, "/factures/payer", token, famille=family, facture=invoice["id"]
    )

    assert status == 200, page
    assert "Le paiement en ligne commencé plus tôt pour cette facture a abouti" in page
    assert 'data-attempt-state="paid"' in page
    assert len(await payments_of(portal)) == 1
    attempt_id = (await portal.sql("SELECT id FROM payment_attempts"))[0][0]
    address = f"/factures/paiement?tentative={attempt_id}&precedent=1&lang=en"
    english = await (await portal.gateway.get(address)).text()
    assert "The online payment started earlier for this invoice went through" in english


async def test_payfip_unreachable_says_retry_in_a_few_minutes_on_the_page(
    portal: Portal, unused_tcp_port: int
) -> None:
    family, invoice = await issued_invoice(portal)
    portal.auth.accounts["famille.test@example.org"] = [family]
    token = await sign_in(portal, "famille.test@example.org")
    await pay_online(portal, token, family, invoice["id"])
    await portal.sql(
        "UPDATE payment_attempts SET created_at = now() - interval '2 minutes', "
        "detail = CAST(:detail AS json)",
        detail=f'{{"ws": "http://127.0.0.1:{unused_tcp_port}/ws"}}',
    )

    status, page = await post(
        portal, "/factures/payer", token, famille=family, facture=invoice["id"]
    )

    assert status == 409
    assert "PayFiP ne répond pas" in page and "Réessayez dans quelques minutes" in page


async def test_mes_factures_writes_amounts_and_tabs_in_correct_french(portal: Portal) -> None:
    family, _ = await issued_invoice(portal)
    portal.auth.accounts["famille.test@example.org"] = [family]
    await sign_in(portal, "famille.test@example.org")

    page = html.unescape(await (await portal.gateway.get("/factures")).text())

    assert ">À PAYER</a>" in page and ">SOLDÉES</a>" in page
    assert "24,00\u00a0€</strong> Solde dû au" in page
    assert "24,00\u00a0€</strong> Montant dû" in page
    assert "24.00" not in page and "A PAYER" not in page and "SOLDEES" not in page
    english = await (await portal.gateway.get("/factures?lang=en")).text()
    assert ">TO PAY</a>" in english and ">SETTLED</a>" in english


async def test_refusals_shown_to_people_write_euros_not_cents(portal: Portal) -> None:
    family, _ = await issued_invoice(portal)
    await portal.billing.post(
        "/payments",
        json={
            "family_id": family,
            "amount_cents": 2400,
            "method": "cheque",
            "received_on": clock.today().isoformat(),
        },
        headers=portal.staff,
    )
    token = await sign_in(portal, "agent@example.org")
    status, page = await post(
        portal,
        f"/agents/reglements?famille={family}",
        token,
        famille=family,
        montant="1234,5",
        mode="cheque",
        date=clock.today().isoformat(),
    )
    assert status == 422
    assert "Le règlement dépasse de 1\u202f234,50\u00a0€ ce que la famille doit" in page
    assert "centimes" not in page


async def test_an_empty_preview_says_nothing_to_invoice_and_offers_no_publication(
    portal: Portal,
) -> None:
    token = await sign_in(portal, "agent@example.org")

    status, page = await post(portal, "/agents/facturation", token, mois="2026-03")

    assert status == 200, page
    assert "Rien à facturer pour ce mois" in page
    assert "Publier les factures" not in page and "/publier" not in page
    assert "Abandonner l'aperçu" in page
    run_id = re.search(r"/agents/facturation/([0-9a-f-]{36})/abandonner", page).group(1)
    status, page = await post(portal, f"/agents/facturation/{run_id}/publier", token)
    assert (
        french_spacing("Rien à facturer pour ce mois : l'aperçu ne contient aucune facture.")
        in page
    )
    english = await (await portal.gateway.get(f"/agents/facturation/{run_id}?lang=en")).text()
    assert "Nothing to invoice for this month" in english


async def test_staff_find_a_family_by_name_for_its_invoices_and_the_raw_id_still_works(
    portal: Portal,
) -> None:
    family, invoice = await issued_invoice(portal)
    # Names of this test only: the families service keeps the other tests' households.
    tag = "".join(secrets.choice(string.ascii_uppercase) for _ in range(8))
    berri = await portal.family(f"ETCHE{tag}BERRI", quotient=None)
    garay = await portal.family(f"ETCHE{tag}GARAY", quotient=None)
    await sign_in(portal, "agent@example.org")

    async def staff_page(typed: str) -> str:
        response = await portal.gateway.get("/agents/factures", params={"famille": typed})
        assert response.status == 200
        return html.unescape(await response.text())

    page = await staff_page(f"etche{tag.lower()}ber")
    assert french_spacing("Famille : nom ou identifiant") in page and "1 famille trouvée" in page
    assert f'href="/agents/factures?famille={berri}">ETCHE{tag}BERRI</a>' in page
    assert garay not in page and "Relevé de compte" not in page
    both = await staff_page(f"ETCHE{tag}")
    assert "2 familles trouvées" in both and f">ETCHE{tag}GARAY</a>" in both
    picked = await staff_page(berri)  # the link chosen: the raw id
    assert "Relevé de compte" in picked and f'name="famille" value="{berri}"' in picked
    with_invoice = await staff_page(family)
    assert "Relevé de compte" in with_invoice and invoice["number"] in with_invoice

    assert french_spacing("Aucune famille ne correspond à « ZZZ") in await staff_page(f"ZZZ{tag}")
    short = await staff_page("p")
    assert "Saisissez au moins 2 caractères." in short and 'aria-invalid="true"' in short
    english = await (
        await portal.gateway.get(
            "/agents/factures", params={"famille": f"ETCHE{tag}", "lang": "en"}
        )
    ).text()
    assert "2 families found" in english and "Family: name or identifier" in english


async def test_the_statement_names_each_payment_method_in_the_pages_language(
    portal: Portal,
) -> None:
    family, invoice = await issued_invoice(portal)
    started = await start(portal, family, invoice)
    await choose(portal, started, "P")  # paid online
    portal.lines.add(family, "kid", "Kid PAYEUR", date(2026, 4, 2))
    await portal.publish((await portal.preview("2026-04"))["id"])  # still 12,00 € due
    recorded = await portal.billing.post(
        "/payments",
        json={
            "family_id": family,
            "amount_cents": 500,
            "method": "cheque",
            "received_on": clock.today().isoformat(),
        },
        headers=portal.staff,
    )
    assert recorded.status == 201, await recorded.text()
    await sign_in(portal, "agent@example.org")

    async def statement(language: str) -> str:
        query = {"famille": family, "lang": language}
        page = await (await portal.gateway.get("/agents/factures", params=query)).text()
        return html.unescape(page).split('id="releve"', 1)[1].split("</table>", 1)[0]

    french, english = await statement("fr"), await statement("en")
    assert re.search(r"Règlement R\d+ — Paiement en ligne \(PayFiP\)", french), french
    assert re.search(r"Règlement R\d+ — Chèque", french), french
    assert re.search(r"Payment R\d+ — Online payment \(PayFiP\)", english), english
    assert re.search(r"Payment R\d+ — Cheque", english), english
    assert "payfip)" not in french + english and "cheque" not in french + english


def test_every_payment_method_has_a_french_name_and_its_english() -> None:
    catalog = load_catalogs()["en"]
    for code in ("payfip", *RECORDED_METHODS):
        label = method_label(code)
        assert label != code and catalog(label) != label, code


def _inside_confirm(page: str, action: str) -> bool:
    """Whether the form posting to `action` sits in a « confirm » disclosure with its question."""
    disclosures = re.findall(r'<details class="confirm">(.*?)</details>', page, re.S)
    return any(f'action="{action}' in d and "?" in re.sub(r"<[^>]+>", "", d) for d in disclosures)


async def test_publishing_a_month_and_handing_an_invoice_to_the_treasury_ask_first(
    portal: Portal,
) -> None:
    """Both cannot be undone: one tap opens the question, a second button does it."""
    await scenario.tariffs(portal)
    fam = await scenario.march(portal)
    token = await sign_in(portal, "agent@example.org")
    status, page = await post(portal, "/agents/facturation", token, mois="2026-03")
    assert status == 200, page
    run_id = re.search(r"/agents/facturation/([0-9a-f-]{36})/publier", page).group(1)

    assert _inside_confirm(page, f"/agents/facturation/{run_id}/publier"), page
    assert french_spacing("Émettre 4 factures ?") in page and "Confirmer la publication" in page
    english = await (await portal.gateway.get(f"/agents/facturation/{run_id}?lang=en")).text()
    assert "Issue 4 invoices?" in english and "Confirm the publication" in english
    await portal.gateway.get(f"/agents/facturation/{run_id}?lang=fr")  # the choice is kept

    status, page = await post(portal, f"/agents/facturation/{run_id}/publier", token)
    assert status == 200 and "Factures émises." in page
    charlie = (await portal.invoices(fam.charlie))["items"][0]
    page = html.unescape(
        await (await portal.gateway.get(f"/agents/factures?famille={fam.charlie}")).text()
    )
    assert _inside_confirm(page, f"/agents/factures/{charlie['id']}/tresor"), page
    assert "Confirmer la transmission" in page
    english = await (
        await portal.gateway.get(f"/agents/factures?famille={fam.charlie}&lang=en")
    ).text()
    assert f"Send invoice {charlie['number']} to the Trésor Public?" in html.unescape(english)
