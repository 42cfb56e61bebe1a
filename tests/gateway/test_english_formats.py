"""English pages write amounts and dates the English way, and the services' French sentences
(refusals naming a child, a date, an amount) in English with their names and values kept.

The formats and the sentence templates are checked on their own, with sentences the
services really write (their code is called); then through the real gateway in front of
the real billing, families and bookings services: the invoices of a family, a payment
refused on the staff page, an activity named twice in the catalogue.
"""

from __future__ import annotations

import html
import re
import string
import uuid
from datetime import date
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from gateway.formats import FORMATS
from gateway.i18n import SENTENCE, VALUE, load_catalogs
from gateway.keys import LANGUAGE, TRANSLATOR
from gateway.service_messages import change_result_label, message_text, problem_text
from services.billing import clock
from services.billing.money import euros
from services.documents.inspection import inspect_file
from services.documents.uploads import too_large
from services.kit.typography import french_spacing
from tests.browser import SCREENSHOTS, chromium, requires_chromium, sign_in_on_page
from tests.services.billing.conftest import Portal
from tests.services.billing.conftest import portal as billing_portal  # noqa: F401
from tests.services.billing.test_payments import issued_invoice

from .conftest import same_origin
from .fakes import PASSWORD
from .test_catalogue_pages import (  # noqa: F401 (office: the catalogue tests' fixture)
    BackOffice,
    _activity_with_units,
    _registration_in,
    office,
)
from .test_i18n_coverage import families_database, french_left, portal, whole_portal  # noqa: F401

ENGLISH = load_catalogs()["en"]._catalog  # the merged catalog, read only
PROBLEM = "https://portail-famille.example/problems/"
# A French amount (« 24,00 € », « 1 234,50 € »): none may be left on an English page.
FRENCH_AMOUNT = re.compile(r"\d,\d{2}[\u00a0\u202f ]?€")


def page_request(language: str) -> web.Request:
    request = make_mocked_request("GET", "/")
    request[TRANSLATOR] = load_catalogs()[language]
    request[LANGUAGE] = language
    return request


# ---- formats ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cents", "french", "english"),
    [
        (3500, "35,00\u00a0€", "€35.00"),
        (5, "0,05\u00a0€", "€0.05"),
        (123450, "1\u202f234,50\u00a0€", "€1,234.50"),
        (-150, "-1,50\u00a0€", "-€1.50"),
    ],
)
def test_amounts_follow_the_pages_language(cents: int, french: str, english: str) -> None:
    assert FORMATS["fr"].euros(cents) == euros(cents) == french
    assert FORMATS["en"].euros(cents) == english


def test_days_and_moments_follow_the_pages_language() -> None:
    fr, en = FORMATS["fr"], FORMATS["en"]
    # French stays day-first in figures; English names the month (« 05/05 » could be read
    # month first).
    assert fr.date_text("2027-05-05") == "05/05/2027"
    assert en.date_text(date(2027, 5, 5)) == "5 May 2027"
    assert fr.weekday_date("2027-05-05") == "mercredi 05/05/2027"
    assert en.weekday_date("2027-05-05") == "Wednesday 5 May 2027"
    assert (fr.short_day("2027-09-15"), en.short_day("2027-09-15")) == (
        "mer. 15/09/2027",
        "Wed 15 Sept 2027",
    )
    assert (fr.short_day("2027-04-21", year=False), en.short_day("2027-04-21", year=False)) == (
        "mer. 21/04",
        "Wed 21 Apr",
    )
    assert (fr.month(2027, 5), en.month(2027, 5)) == ("mai 2027", "May 2027")
    # 23:30 UTC on the 28th is already the 29th in Paris.
    assert fr.day("2026-11-28T23:30:00Z") == "29/11/2026"
    assert en.day("2026-11-28T23:30:00Z") == "29 November 2026"
    assert fr.minute("2026-11-28T20:59:00+00:00") == "28/11/2026 21:59"
    assert en.minute("2026-11-28T20:59:00+00:00") == "28 November 2026 at 21:59"
    assert en.date_text("not a day") == "not a day" and en.date_text(None) == ""


# ---- the services' sentences ----------------------------------------------------------


def test_sentence_templates_keep_their_placeholders_once_each() -> None:
    templates = {
        k.removeprefix(SENTENCE).removeprefix(VALUE): v
        for k, v in ENGLISH.items()
        if k.startswith((SENTENCE, VALUE))
    }
    assert len(templates) > 40, "the catalog's sentence templates are gone"

    def names(text: str) -> list[str]:
        return [name for _, name, _, _ in string.Formatter().parse(text) if name]

    assert not [t for t in templates if len(names(t)) != len(set(names(t)))]
    assert not [t for t, e in templates.items() if set(names(t)) != set(names(e))]


def _sentences_the_services_write() -> list[tuple[str, str]]:
    """(French detail, its English) from the services' own code, so a reworded French
    sentence fails here instead of falling back to a generic English one on the pages."""
    pairs = []
    for raw, name, expected in (
        (b"", "bulletin.pdf", "The file “bulletin.pdf” is empty."),
        (
            b"%PDF-1.4\n",
            "bulletin.png",
            "The file “bulletin.png” is a PDF but its extension is .png: rename it to .pdf.",
        ),
    ):
        try:
            inspect_file(raw, name)
        except Exception as refused:
            pairs.append((str(getattr(refused, "detail", refused)), expected))
    pairs.extend(_bookings_sentences())
    pairs.append(
        (
            too_large(10 * 1024 * 1024).detail,
            "The files sent are larger than allowed (10 MB in all). Make them smaller "
            "(a PDF scan or a lighter photo) and try again.",
        )
    )
    return pairs


def _bookings_sentences() -> list[tuple[str, str]]:
    """Registrations, notice rules and deletions, as bookings' own functions write them."""
    from datetime import time

    from services.bookings.models import Activity, Period
    from services.bookings.notice_rules import (
        DaysBefore,
        WeekdayBefore,
        describe_deadline,
        describe_rule,
    )
    from services.bookings.registrations import _already, _missing_detail
    from services.bookings.removals import Uses, _refusal
    from services.bookings.upstream import Completeness
    from services.bookings.workdays import paris_to_utc

    activity, period = Activity(name="ALSH"), Period(name="Printemps 2027")
    waiting = Completeness(complete=False, missing=("Vaccins", "Fiche"), waiting=("Vaccins",))
    deletion = _refusal(
        "Le groupe « primaire » ne peut pas être supprimé",
        Uses(registrations=2, active_registrations=2, reservations=1, booked_openings=1),
        "Pour ne plus le proposer, fermez plutôt ses ouvertures.",
    )
    deadline = describe_deadline(paris_to_utc(date(2027, 4, 19), time(10, 0)))
    return [
        (
            str(_already("Enfant TEST", "accepted", activity, period).detail),
            "Enfant TEST already has a registration (accepted) to “ALSH” for “Printemps 2027”.",
        ),
        (
            _missing_detail("Enfant TEST", waiting),
            "Documents not yet checked by the structure for Enfant TEST: Vaccins. To send from "
            "“My documents”: Fiche. The registration can be requested once the documents are "
            "accepted.",
        ),
        (
            describe_rule(
                DaysBefore(
                    kind="days_before", days=2, at=time(10, 0), skip_weekends_and_holidays=True
                )
            ),
            "up to 2 working days before, at 10:00",
        ),
        (
            describe_rule(WeekdayBefore(kind="weekday_before", weekday=2)),
            "until the previous Wednesday at 12:00",
        ),
        (deadline, "Monday 19 April 2027 at 10:00"),
        (
            str(deletion.detail),
            "The group “primaire” cannot be deleted, because data depend on it: 2 registrations "
            "(2 requested or accepted), 1 booking on 1 slot — cancelled and refused ones count "
            "too, they stay in the families' history. To stop offering it, close its openings "
            "instead.",
        ),
    ]


@pytest.mark.parametrize(
    ("days", "working", "english"),
    [
        (1, True, "up to 1 working day before, at 10:00"),
        (2, True, "up to 2 working days before, at 10:00"),
        (1, False, "up to 1 day before, at 10:00"),
        (2, False, "up to 2 days before, at 10:00"),
        (0, True, "until 10:00 on the day itself"),
        (0, False, "until 10:00 on the day itself"),
    ],
)
def test_a_notice_rule_reads_in_the_singular_or_the_plural_in_english(
    days: int, working: bool, english: str
) -> None:
    """The planning's header said « 2 working day(s) » (« 2 jour(s) ouvré(s) » in French)."""
    from datetime import time

    from services.bookings.notice_rules import DaysBefore, describe_rule

    french = describe_rule(
        DaysBefore(
            kind="days_before", days=days, at=time(10, 0), skip_weekends_and_holidays=working
        )
    )
    assert message_text(page_request("en"), french) == english
    assert message_text(page_request("fr"), french) == french_spacing(french)


def test_the_services_own_sentences_have_english_templates() -> None:
    found = _sentences_the_services_write()
    assert len(found) == 9
    for french, english in found:
        assert message_text(page_request("en"), french) == english
        assert message_text(page_request("fr"), french) == french_spacing(french)


def test_the_upload_script_gets_the_templates_of_the_file_refusals_on_english_pages() -> None:
    """The script shows them instead of the type's generic sentence (see the browser test in
    tests/services/documents/test_english_refusals.py)."""
    from gateway.service_messages import UPLOAD_SENTENCES, script_sentences

    assert script_sentences(page_request("fr"), UPLOAD_SENTENCES) == {}
    given = script_sentences(page_request("en"), UPLOAD_SENTENCES)
    french = _sentences_the_services_write()[1][0]  # a PDF named .png
    matching = [
        t for t in given["templates"]
        if re.fullmatch(t["pattern"].replace("(?<", "(?P<"), french)
    ]  # fmt: skip
    assert len(matching) == 1 and matching[0]["text"].startswith("The file “{name}” is a {kind}")
    assert given["words"]["page HTML"] == "HTML page"


@pytest.mark.parametrize(
    ("slug", "french", "english"),
    [
        (
            "age-not-eligible",
            "Enfant TEST aura 2 ans le 26/04/2027 : « ALSH Josta Leku » accueille les enfants "
            "de 3 à 11 ans.",
            "Enfant TEST will be 2 on 26 April 2027: “ALSH Josta Leku” takes children from 3 to 11 "
            "years old.",
        ),
        (
            "already-registered",
            "Enfant TEST a déjà une inscription acceptée à « ALSH » pour « Printemps 2027 ».",
            "Enfant TEST already has a registration (accepted) to “ALSH” for “Printemps 2027”.",
        ),
        (
            "registration-window-closed",
            "Les inscriptions à « ALSH » pour « Printemps » sont ouvertes du lundi 29 mars 2027 "
            "à 00:00 au jeudi 8 avril 2027 à 23:59 : la demande est en dehors de cette période.",
            "Registrations to “ALSH” for “Printemps” are open from Monday 29 March 2027 at 00:00 "
            "to Thursday 8 April 2027 at 23:59: the request is outside that window.",
        ),
        (
            "allocation-refused",
            "Le règlement dépasse de 1\u202f234,50\u00a0€ ce que la famille doit : rien n'a été "
            "enregistré.",
            "The payment is €1,234.50 more than the family owes: nothing was recorded.",
        ),
        (
            "invoice-state",
            "La facture F260300001 n'est pas payable en ligne (état : paid, solde : 0,00\u00a0€).",
            "The invoice F260300001 cannot be paid online (state: paid, balance: €0.00).",
        ),
    ],
)
def test_a_refusal_keeps_its_names_dates_and_amounts_in_english(
    slug: str, french: str, english: str
) -> None:
    problem = {"type": PROBLEM + slug, "status": 409, "detail": french}
    assert problem_text(page_request("en"), problem, "x") == english
    assert problem_text(page_request("fr"), problem, "x") == french


def test_a_period_that_would_leave_openings_out_says_which_in_english() -> None:
    """The counts and plurals come from the service's own `plural`."""
    from services.bookings.catalogue import plural

    french = (
        f"Ces dates laisseraient {plural(3, 'ouverture', 'ouvertures')} (et "
        f"{plural(1, 'réservation', 'réservations')} en cours) en dehors de la période. Elle "
        "doit couvrir au moins du 21/04/2027 au 05/05/2027, ses premier et dernier jours ouverts."
    )
    assert message_text(page_request("en"), french) == (
        "These dates would leave 3 slots (and 1 booking current) outside the period. It must "
        "cover at least 21 April 2027 to 5 May 2027, its first and last open days."
    )


def test_a_late_change_says_until_when_in_english() -> None:
    result = {
        "ok": False, "code": "past-deadline", "day": "2027-04-21", "unit_label": "Journée",
        "label": "refusé : hors délai : le mercredi 21/04/2027 (Journée) pouvait être réservé "
        "jusqu'au lundi 19 avril 2027 à 10:00",
    }  # fmt: skip
    assert change_result_label(page_request("en"), result) == (
        "refused: too late, Wednesday 21 April 2027 (Journée) could be booked until "
        "Monday 19 April 2027 at 10:00"
    )


def test_the_journal_writes_an_events_day_as_the_pages_do() -> None:
    """« Mon historique » showed the service's ISO day (« 2027-04-21 ») in both languages."""
    from gateway.pages.notifications import _detail

    summary = {"person_name": "Enfant TEST", "activity_name": "ALSH", "date": "2027-04-21",
               "unit_name": "Journée", "reason": "complet"}  # fmt: skip
    assert _detail({"summary": summary}) == (
        "Enfant TEST — ALSH — 21/04/2027 — Journée — motif : complet"
    )
    english = _detail({"summary": summary}, load_catalogs()["en"])
    assert english.startswith("Enfant TEST — ALSH — 21 April 2027 — Journée — ")
    assert "motif" not in english


def test_a_planning_deadline_alone_is_written_in_english() -> None:
    assert message_text(page_request("en"), "mardi 10 mars 2026 à 10:00") == (
        "Tuesday 10 March 2026 at 10:00"
    )
    assert message_text(page_request("en"), "jusqu'au mercredi précédent à 12:00") == (
        "until the previous Wednesday at 12:00"
    )
    # An unknown French sentence stays whole rather than half translated.
    unknown = "Une phrase neuve du mercredi 21/04/2027."
    assert message_text(page_request("en"), unknown) == unknown


# ---- through the real gateway -----------------------------------------------------------


async def _sign_in(billing: Portal, email: str) -> str:
    """Sign in through the form, in English; the session's CSRF token."""
    client = billing.gateway
    client.session.cookie_jar.clear()
    signed = await client.post(
        "/connexion?lang=en",
        data={"email": email, "password": PASSWORD},
        headers=same_origin(client),
        allow_redirects=False,
    )
    assert signed.status in (302, 303), await signed.text()
    page = await (await client.get("/factures")).text()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, page
    return token.group(1)


async def _page(billing: Portal, path: str) -> str:
    response = await billing.gateway.get(path)
    text = html.unescape(await response.text())
    assert response.status == 200, (path, text[:300])
    return text


async def test_invoices_show_english_amounts_and_dates_on_english_pages(
    billing_portal: Portal,  # noqa: F811
) -> None:
    family, invoice = await issued_invoice(billing_portal)  # 2 × 12,00 €
    billing_portal.auth.accounts["famille.test@example.org"] = [family]
    data = (invoice["number"], "Mairie de Hasparren", "PAYEUR", "Trésor Public")

    await _sign_in(billing_portal, "famille.test@example.org")
    english = await _page(billing_portal, "/factures?lang=en")
    assert "€24.00" in english and not FRENCH_AMOUNT.search(english)
    assert french_left(english, data) == []
    french = await _page(billing_portal, "/factures?lang=fr")
    assert "24,00\u00a0€" in french and "€24.00" not in french

    await _sign_in(billing_portal, "agent@example.org")
    staff = await _page(billing_portal, f"/agents/factures?famille={family}&lang=en")
    assert "€24.00" in staff and not FRENCH_AMOUNT.search(staff)
    assert f"Invoice {invoice['number']}" in staff  # the statement's line, not « Facture … »
    runs = await _page(billing_portal, "/agents/facturation?lang=en")
    run_id = re.search(r"/agents/facturation/([0-9a-f-]{36})", runs)
    assert run_id, runs
    run = await _page(billing_portal, f"/agents/facturation/{run_id.group(1)}?lang=en")
    assert "total €24.00" in run and not FRENCH_AMOUNT.search(run)


async def test_a_refused_payment_is_explained_in_english_on_the_staff_page(
    billing_portal: Portal,  # noqa: F811
) -> None:
    family, _ = await issued_invoice(billing_portal)
    token = await _sign_in(billing_portal, "agent@example.org")
    form = {
        "csrf_token": token, "famille": family, "montant": "1234,5", "mode": "cheque",
        "date": clock.today().isoformat(),
    }  # fmt: skip
    answers = {}
    for language in ("fr", "en"):
        response = await billing_portal.gateway.post(
            f"/agents/reglements?famille={family}&lang={language}",
            data=form,
            headers=same_origin(billing_portal.gateway),
        )
        assert response.status == 422
        answers[language] = html.unescape(await response.text())

    assert "Le règlement dépasse de 1\u202f210,50\u00a0€ ce que la famille doit" in answers["fr"]
    english = answers["en"]
    assert "The payment is €1,210.50 more than the family owes: nothing was recorded." in english
    assert "dépasse" not in english and not FRENCH_AMOUNT.search(english)


async def test_an_activity_named_twice_is_refused_in_english_with_its_name(
    office: BackOffice,  # noqa: F811
) -> None:
    activity_id, _ = await _activity_with_units(office)
    existing = (await office.api(f"/activities/{activity_id}"))["name"]
    twice = await office.post(
        "/agents/activites/nouvelle?lang=en", {"nom": existing, "validation": "manual"}
    )
    assert twice.status == 409
    shown = html.unescape(await twice.text())
    assert f"An activity named “{existing}” already exists." in shown
    assert "existe déjà" not in shown


async def test_a_deletion_refused_for_what_depends_on_it_is_explained_in_english(
    office: BackOffice,  # noqa: F811
    service_databases: dict[str, str],
) -> None:
    """The service's sentence names the group and counts what depends on it; the English
    page said it in French (there is no English sentence for the problem type)."""
    activity_id, period_id = await _activity_with_units(office)
    here = f"/agents/activites/{activity_id}"
    primaire = next(
        g for g in (await office.api(f"/activities/{activity_id}"))["groups"]
        if g["name"] == "primaire"
    )  # fmt: skip
    await _registration_in(service_databases, activity_id, period_id, primaire["id"])
    refused = await office.post(
        f"{here}/groupes/{primaire['id']}/supprimer?lang=en", {"confirme": "oui"}, token_from=here
    )
    assert refused.status == 409
    shown = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", await refused.text())).split())
    assert (
        "The group “primaire” cannot be deleted, because data depend on it: 1 registration "
        "(1 requested or accepted) — cancelled and refused ones count too, they stay in the "
        "families' history. To stop offering it, close its openings instead." in shown
    ), shown


async def test_a_publications_days_are_the_paris_days_it_was_given(
    whole_portal: dict[str, Any],  # noqa: F811
) -> None:
    """The page cut the UTC instant (« du 14/03/2026 » for a document published from the 15th:
    midnight in Paris is 23:00 UTC the day before); it now shows the Paris day, in both
    languages."""
    agent = whole_portal["agent"]
    form_page = await (await agent.get("/agents/documentation")).text()
    token = re.search(r'name="csrf_token" value="([^"]+)"', form_page)
    assert token, form_page
    title = f"Règlement intérieur {uuid.uuid4().hex[:6]}"
    published = await agent.post(
        "/agents/documentation",
        data={"csrf_token": token.group(1), "titre": title, "categorie": "Règlements",
              "debut": "2026-03-15", "fin": "2027-03-15"},
        headers=same_origin(agent),
    )  # fmt: skip
    assert published.status == 200, await published.text()
    for language, first, last in (
        ("fr", "du 15/03/2026", "au 15/03/2027"),
        ("en", "from 15 March 2026", "to 15 March 2027"),
    ):
        listed = html.unescape(
            await (await agent.get(f"/agents/documentation?lang={language}")).text()
        )
        row = listed.split(f'data-org-document="{title}"', 1)[1].split("</tr>", 1)[0]
        shown = " ".join(re.sub(r"<[^>]+>", " ", row).split())
        assert f"{first} {last}" in shown, shown


async def test_a_document_type_saved_then_named_twice_reads_in_english(
    whole_portal: dict[str, Any],  # noqa: F811
) -> None:
    """The notice was built in French by the page (« « X » enregistré. ») and the refusal was
    the service's French detail."""
    agent = whole_portal["agent"]
    form_page = await (await agent.get("/agents/types-documents")).text()
    token = re.search(r'name="csrf_token" value="([^"]+)"', form_page)
    assert token, form_page
    name = f"Attestation {uuid.uuid4().hex[:6]}"
    shown = []
    for _ in range(2):
        response = await agent.post(
            "/agents/types-documents?lang=en",
            data={"csrf_token": token.group(1), "nom": name, "concerne": "family"},
            headers=same_origin(agent),
        )
        shown.append((response.status, html.unescape(await response.text())))
    assert shown[0][0] == 200 and f"“{name}” saved." in shown[0][1]
    assert shown[1][0] == 409
    assert f"A document type named “{name}” already exists." in shown[1][1]
    assert "existe déjà" not in shown[1][1] and "enregistré" not in shown[0][1]


@pytest.mark.browser
@pytest.mark.timeout(180)
@requires_chromium
async def test_english_invoices_read_well_on_a_phone_and_a_desktop(
    billing_portal: Portal,  # noqa: F811
) -> None:
    """Screenshots to look at: /tmp/en-invoices-phone.png, /tmp/en-staff-invoices-desktop.png,
    /tmp/en-staff-refusal-desktop.png."""
    family, invoice = await issued_invoice(billing_portal)
    billing_portal.auth.accounts["famille.test@example.org"] = [family]
    base = billing_portal.gateway_url
    async with chromium() as browser:
        phone = await browser.new_page(
            viewport={"width": 360, "height": 780}, device_scale_factor=2, is_mobile=True
        )
        await sign_in_on_page(phone, base, "famille.test@example.org", PASSWORD, lang="en")
        await phone.goto(f"{base}/factures")  # the `lang` cookie keeps English
        row = phone.locator(f"[data-invoice='{invoice['number']}']")
        assert "€24.00 Amount due" in " ".join((await row.inner_text()).split())
        width = await phone.evaluate("document.documentElement.scrollWidth")
        await phone.screenshot(path=str(SCREENSHOTS / "en-invoices-phone.png"), full_page=True)

        desk = await browser.new_page(viewport={"width": 1280, "height": 900})
        await sign_in_on_page(desk, base, "agent@example.org", PASSWORD, lang="en")
        await desk.goto(f"{base}/agents/factures?famille={family}")
        table = await desk.locator(f"tr[data-invoice='{invoice['number']}']").inner_text()
        await desk.screenshot(
            path=str(SCREENSHOTS / "en-staff-invoices-desktop.png"), full_page=True
        )
        await desk.fill("#montant", "1234,5")
        await desk.get_by_role("button", name="Save", exact=True).first.click()
        await desk.wait_for_load_state()
        alert = await desk.get_by_role("alert").first.inner_text()
        await desk.screenshot(
            path=str(SCREENSHOTS / "en-staff-refusal-desktop.png"), full_page=True
        )

    assert width <= 360
    assert "€24.00" in table and not FRENCH_AMOUNT.search(table)
    assert alert == "The payment is €1,210.50 more than the family owes: nothing was recorded."
