"""The bookings pages not covered by the planning's audit pass axe-core's WCAG 2.1 A/AA audit
in a real Chromium, each in the state a person meets it: « Mes inscriptions » and its request
form (refused, sent, nothing left to ask), the month view, the results of ENREGISTRER (a change
saved and one refused), « Répéter, copier, calendrier » opened — the parent on a phone; the
staff lists with bookings and requests in them, the catalogue's pages and a period's closures —
the agent on a desktop; attendance taken by the agent on a phone. One English page each.
Beyond axe: the controls repeated per row name their row to a screen reader, and the child to
mark present is on the phone's first screen."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from services.kit.testing import TestSigner
from tests.browser import (
    PHONE,
    AccessibilityAudit,
    chromium,
    requires_chromium,
    sign_in_on_page,
)

from .factories import create_period
from .portal import PARENT_EMAIL, PASSWORD, STAFF_EMAIL, Portal
from .test_browser import DESKTOP
from .test_reservation_pages import ready_child

if TYPE_CHECKING:
    from playwright.async_api import Page

pytestmark = [pytest.mark.browser, requires_chromium]

WED, THU, FRI = "2027-04-21", "2027-04-22", "2027-04-23"


async def _goto(page: Page, url: str) -> None:
    response = await page.goto(url)
    assert response is not None and response.status == 200, url


async def _parent_pages(
    page: Page, portal: Portal, openings: dict[Any, str], audit: AccessibilityAudit
) -> None:
    base = portal.base_url
    member = f"famille={portal.family_id}&personne={portal.child_id}"
    await _goto(page, f"{base}/inscriptions")
    await audit.check(page, "/inscriptions")
    await _goto(page, f"{base}/inscriptions?{member}")
    await audit.check(page, "/inscriptions (member, form)")
    # Sent without a choice (a page's `required` bypassed): the page says what to do.
    async with page.expect_navigation():
        await page.evaluate("() => { const f = document.querySelector('#choix');"
                            " f.selectedIndex = -1; f.form.submit(); }")  # fmt: skip
    assert await page.get_by_role("alert").count() == 1
    await audit.check(page, "/inscriptions/demande (refused)")
    # This test's activity: the run's catalogue is shared, other tests leave theirs open.
    ours = page.locator(f"#choix option[value^='{portal.activity['id']}|']:not([disabled])")
    await page.get_by_label("Activité et période").select_option(
        value=await ours.first.get_attribute("value")
    )
    await page.get_by_role("button", name="Demander l'inscription").click()
    await page.wait_for_url("**ok=envoyee**")
    await audit.check(page, "/inscriptions?ok=envoyee (sent, nothing left to ask)")

    month = f"{base}/reservations?{member}&semaine={WED}&vue=mois"
    await _goto(page, month)
    await audit.check(page, "/reservations (month)")
    # Wednesday ticked as a parent does; Thursday's journée and matin added to the form (the
    # page's script would not let both be ticked): one saved, one refused in the results.
    # The box shown: on a phone the month's list of days; its twin in the grid is hidden.
    await page.locator(f"input[value='{openings[(WED, 'journee')]}']:visible").check()
    await page.evaluate(
        """ids => { const form = document.querySelector("form[action='/reservations/enregistrer']");
        for (const id of ids) { const i = document.createElement('input');
          i.type = 'hidden'; i.name = 'reserver'; i.value = id; form.append(i); } }""",
        [openings[(THU, "journee")], openings[(THU, "matin")]],
    )
    async with page.expect_navigation():
        await page.get_by_role("button", name="ENREGISTRER").click()
    results = await page.locator(".results").inner_text()
    assert "réservé" in results and "refusé" in results, results
    await audit.check(page, "/reservations/enregistrer (saved and refused)")
    await page.get_by_text("Répéter, copier, calendrier").click()
    await audit.check(page, "/reservations (Répéter, copier, calendrier opened)")
    await _goto(page, f"{month}&lang=en")
    await audit.check(page, "/reservations (month, English)")


async def _staff_pages(page: Page, portal: Portal, audit: AccessibilityAudit) -> None:
    base, activity, period = portal.base_url, portal.activity["id"], portal.period["id"]
    lists = f"{base}/agents/reservations?activite={activity}&jour={WED}"
    await _goto(page, f"{lists}&duree=7")
    await audit.check(page, "/agents/reservations (week)")
    # Enfant TEST booked on Wednesday and Thursday: each attendance group names its day, or a
    # screen reader's list of fields says « Présence de Enfant TEST » twice.
    groups = page.get_by_role("radiogroup")
    names = [await groups.nth(n).get_attribute("aria-label") for n in range(await groups.count())]
    assert len(names) == 2 and len(set(names)) == 2, names
    assert names[0] == "Présence de Enfant TEST — mer. 21/04/2027 — Journée", names
    for url, name in (
        (lists, "/agents/reservations (day)"),
        (f"{base}/agents/inscriptions?activite={activity}", "/agents/inscriptions (a request)"),
        (f"{base}/agents/activites", "/agents/activites"),
        (f"{base}/agents/activites/{activity}", "/agents/activites/<id> (groups, units)"),
        (f"{base}/agents/activites/nouvelle", "/agents/activites/nouvelle"),
        (f"{base}/agents/periodes", "/agents/periodes"),
        (f"{base}/agents/periodes/{activity}/{period}", "/agents/periodes/<id> (closures)"),
        (f"{base}/agents/periodes/{activity}/{period}/ouvertures", "openings"),
    ):
        await _goto(page, url)
        await audit.check(page, name)
    # The request's controls say whose request they decide, out of their row.
    await _goto(page, f"{base}/agents/inscriptions?activite={activity}")
    whose = f"Enfant TEST — {portal.activity['name']}, Toussaint 2027"
    for role, name in (("checkbox", f"Sélectionner {whose}"), ("button", f"Accepter — {whose}"),
                       ("textbox", f"Motif du refus — {whose}"),
                       ("button", f"Refuser — {whose}")):  # fmt: skip
        assert await page.get_by_role(role, name=name, exact=True).count() == 1, name
    openings = f"{base}/agents/periodes/{activity}/{period}/ouvertures"
    await _goto(page, openings)
    async with page.expect_navigation():
        await page.locator("a[href*='/ouvertures/']").first.click()
    await audit.check(page, "an opening's page")
    await _goto(page, openings)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Supprimer le jour de fermeture").click()
    await audit.check(page, "a closure's deletion, to confirm")
    # The lists' closure form sent for a Tuesday nobody booked: its results shown.
    await _goto(page, f"{base}/agents/reservations?activite={activity}&jour=2027-04-20")
    await page.get_by_label("Fermer le").fill("2027-04-20")
    await page.get_by_label("Motif", exact=True).fill("Grève")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Fermer et annuler les réservations").click()
    await audit.check(page, "/agents/reservations/fermeture (to confirm)")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Oui, fermer et annuler").click()
    await audit.check(page, "/agents/reservations/fermeture (closed)")
    # « Périodes et ouvertures »: each row's links name their period to a screen reader's list
    # of links (it listed « Modifier ou supprimer », « Ouvertures » once per period).
    await _goto(page, f"{base}/agents/periodes")
    which = f"Vacances d'été 2027 ({portal.activity['name']})"
    for link in (f"Modifier ou supprimer — {which}", f"Ouvertures — {which}"):
        assert await page.get_by_role("link", name=link, exact=True).count() == 1, link
    await _goto(page, f"{lists}&lang=en")
    await audit.check(page, "/agents/reservations (day, English)")


async def _attendance_on_a_phone(page: Page, portal: Portal, audit: AccessibilityAudit) -> None:
    base = portal.base_url
    await _goto(page, f"{base}/agents/reservations?activite={portal.activity['id']}&jour={WED}")
    # The child to mark is on the first screen: the empty units and groups are listed after
    # the openings with someone in them (the agent scrolled past seven of them first).
    first = await page.get_by_role("radiogroup").first.bounding_box()
    assert first is not None and first["y"] + first["height"] <= PHONE["height"], first
    assert "maternelle — Journée" in await page.locator(".roster-empty").inner_text()
    await audit.check(page, "/agents/reservations on a phone (attendance)")
    await page.get_by_label("présent", exact=True).first.check()
    async with page.expect_navigation():
        await page.get_by_role("button", name="Enregistrer les présences").click()
    assert "1 présence enregistrée." in await page.get_by_role("status").first.inner_text()
    await audit.check(page, "/agents/reservations/presences on a phone (marked)")


async def _a_pending_request_and_a_closure(portal: Portal, signer: TestSigner,
                                           openings: dict[Any, str]) -> None:  # fmt: skip
    """Under manual validation, Friday asked and a third period's registration asked (requests
    to decide); Easter Monday closed."""
    gateway, staff = portal.gateway, signer.headers(role="staff", subject="agent-1")
    activity = portal.activity["id"]
    manual = await gateway.patch(
        f"/api/bookings/activities/{activity}", json={"validation": "manual"}, headers=staff
    )
    assert manual.status == 200, await manual.text()
    parent = signer.headers(families=[portal.family_id], subject="parent-test")
    change = {"person_id": portal.child_id, "opening_id": openings[(FRI, "journee")],
              "action": "book"}  # fmt: skip
    asked = await gateway.post(
        f"/api/bookings/families/{portal.family_id}/reservations/changes",
        json={"changes": [change]}, headers=parent,
    )  # fmt: skip
    assert asked.status == 200, await asked.text()
    assert portal.bookings is not None
    third = await create_period(portal.bookings, signer, activity, name="Toussaint 2027")
    registration = {"person_id": portal.child_id, "activity_id": activity, "period_id": third["id"]}
    requested = await gateway.post(
        f"/api/bookings/families/{portal.family_id}/registrations",
        json=registration, headers=parent,
    )  # fmt: skip
    assert requested.status == 201, await requested.text()
    closed = await gateway.post(
        f"/api/bookings/activities/{activity}/closures",
        json={"days": ["2027-04-26"], "reason": "Pont"}, headers=staff,
    )  # fmt: skip
    assert closed.status == 201, await closed.text()


@pytest.mark.timeout(300)
async def test_the_bookings_pages_pass_the_accessibility_audit(
    portal: Portal, signer: TestSigner
) -> None:
    openings = await ready_child(portal, signer)
    assert portal.bookings is not None
    # A second period open: « Mes inscriptions » offers a form for it.
    await create_period(portal.bookings, signer, portal.activity["id"], name="Vacances d'été 2027")
    audit = AccessibilityAudit("bookings")
    async with chromium() as browser:
        phone = await browser.new_context(viewport=PHONE, is_mobile=True)
        parent = await phone.new_page()
        await sign_in_on_page(parent, portal.base_url, PARENT_EMAIL, PASSWORD)
        await _parent_pages(parent, portal, openings, audit)
        await phone.close()
        await _a_pending_request_and_a_closure(portal, signer, openings)

        desktop = await browser.new_context(viewport=DESKTOP)
        agent = await desktop.new_page()
        await sign_in_on_page(agent, portal.base_url, STAFF_EMAIL, PASSWORD)
        await _staff_pages(agent, portal, audit)
        await desktop.close()

        phone = await browser.new_context(viewport=PHONE, is_mobile=True)
        agent = await phone.new_page()
        await sign_in_on_page(agent, portal.base_url, STAFF_EMAIL, PASSWORD)
        await _attendance_on_a_phone(agent, portal, audit)
        await phone.close()
    assert not audit.found, audit.report()
