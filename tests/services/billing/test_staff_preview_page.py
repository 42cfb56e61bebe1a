"""The staff's invoicing preview as an agent checks it before publishing, through the real
gateway and billing: each draft's lines (whose day, what, how much), and a warning when the
month is not over."""

from __future__ import annotations

import re
from datetime import date, datetime

from gateway.paris_time import PARIS
from services.kit.typography import french_spacing

from . import scenario
from .conftest import Portal
from .test_pages import post, sign_in


def _row(page: str, family: str) -> str:
    match = re.search(rf'<tr data-family="{family}">(.*?)</tr>', page, re.S)
    assert match, f"no row for {family}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


async def test_the_preview_shows_each_drafts_lines_before_publishing(portal: Portal) -> None:
    await scenario.tariffs(portal)
    await scenario.march(portal)
    token = await sign_in(portal, "agent@example.org")
    status, page = await post(portal, "/agents/facturation", token, mois="2026-03")
    assert status == 200, page
    alpha = _row(page, "ALPHA")
    # The child, the day, the activity and unit in words, the attendance and the price.
    assert re.search(r"Léa ALPHA — mar\. 03/03 — [^—]+, journée — Présent — 8,00\s€", alpha), alpha
    assert "Restauration scolaire, repas — Présent — 1,80" in alpha, alpha
    assert "journee" not in alpha and "present" not in alpha.replace("Présent", "")
    # March 2026 is over: no warning.
    assert "data-month-open" not in page

    english = await (await portal.gateway.get(f"{_run_path(page)}?lang=en")).text()
    alpha_en = _row(english, "ALPHA")
    assert re.search(r"Léa ALPHA — Tue 3 Mar — [^—]+, full day — Present — €8\.00", alpha_en), (
        alpha_en
    )


async def test_a_month_not_over_is_previewed_with_a_warning(portal: Portal) -> None:
    await scenario.tariffs(portal)
    token = await sign_in(portal, "agent@example.org")
    this_month = f"{datetime.now(PARIS).date():%Y-%m}"
    status, page = await post(portal, "/agents/facturation", token, mois=this_month)
    assert status == 200, page
    assert (
        french_spacing("Ce mois n'est pas terminé : des réservations peuvent encore changer")
        in page
    ), page
    await post(portal, f"{_run_path(page)}/abandonner", token)


def _run_path(page: str) -> str:
    match = re.search(r"/agents/facturation/([0-9a-f-]{36})/abandonner", page)
    assert match, page
    return f"/agents/facturation/{match.group(1)}"


async def test_the_staff_invoice_list_says_which_month_each_invoice_bills(portal: Portal) -> None:
    await scenario.tariffs(portal)
    fam = await scenario.march(portal)
    token = await sign_in(portal, "agent@example.org")
    status, page = await post(portal, "/agents/facturation", token, mois="2026-03")
    status, page = await post(portal, f"{_run_path(page)}/publier", token)
    assert status == 200 and "Factures émises." in page
    alpha = (await portal.invoices(fam.alpha))["items"][0]
    listed = await (await portal.gateway.get(f"/agents/factures?famille={fam.alpha}")).text()
    row = re.search(rf'<tr data-invoice="{alpha["number"]}">(.*?)</tr>', listed, re.S)
    assert row, listed
    assert re.search(r'data-month="2026-03">\s*mars 2026</td>', row.group(1)), row.group(1)
    english = await (
        await portal.gateway.get(f"/agents/factures?famille={fam.alpha}&lang=en")
    ).text()
    assert "March 2026" in english


async def test_a_preview_says_when_it_was_prepared_and_is_prepared_again_from_its_page(
    portal: Portal,
) -> None:
    await scenario.tariffs(portal)
    fam = await scenario.march(portal)
    token = await sign_in(portal, "agent@example.org")
    status, first = await post(portal, "/agents/facturation", token, mois="2026-03")
    assert status == 200
    said = " ".join(re.sub(r"<[^>]+>", " ", first).split())
    assert re.search(
        r"Aperçu préparé le \d{2}/\d{2}/\d{4} \d{2}:\d{2} : les réservations changées depuis "
        r"n'y sont pas\.",
        said,
    ), said
    # A day booked after the preview is not in it: « Refaire l'aperçu » posts the same month.
    portal.lines.add(fam.alpha, "lea", "Léa ALPHA", date(2026, 3, 25), state="present")
    assert "mer. 25/03" not in _row(first, "ALPHA")
    form = re.search(r'<form method="post" action="/agents/facturation"[^>]*data-prepared>(.*?)'
                     r"</form>", first, re.S)  # fmt: skip
    assert form and 'name="mois" value="2026-03"' in form.group(1), first
    status, again = await post(portal, "/agents/facturation", token, mois="2026-03")
    assert status == 200 and _run_path(again) != _run_path(first)
    assert "Léa ALPHA — mer. 25/03" in _row(again, "ALPHA")


async def test_publishing_a_stale_preview_is_refused_on_its_page_in_french(
    portal: Portal,
) -> None:
    await scenario.tariffs(portal)
    fam = await scenario.march(portal)
    token = await sign_in(portal, "agent@example.org")
    status, first = await post(portal, "/agents/facturation", token, mois="2026-03")
    assert status == 200
    portal.lines.add(fam.alpha, "lea", "Léa ALPHA", date(2026, 3, 25), state="present")
    status, refused = await post(portal, f"{_run_path(first)}/publier", token)
    assert status == 409, refused
    said = " ".join(re.sub(r"<[^>]+>", " ", refused).split())
    assert "Les réservations du mois ont changé depuis l'aperçu : refaites l'aperçu." in said, said
    assert "Refaire l'aperçu" in said and "Factures émises." not in said
    assert (await portal.invoices(fam.alpha))["items"] == []
    status, english = await post(portal, f"{_run_path(first)}/publier?lang=en", token)
    assert status == 409
    assert "The month's bookings changed since the preview: prepare the preview again." in (
        english
    ), english
