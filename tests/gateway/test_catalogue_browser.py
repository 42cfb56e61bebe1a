"""The catalogue's back office in a real (headless) Chromium, as an agent: an activity with a
group and a unit, a period, openings in bulk, one opening closed — on a desktop screen and on
a 360 px phone, with screenshots to look at."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from services.kit.typography import french_spacing
from tests.browser import SCREENSHOTS, chromium, requires_chromium, sign_in_on_page

from .fakes import PASSWORD
from .test_catalogue_pages import AGENT, BackOffice, start_office

pytestmark = [
    pytest.mark.browser,
    requires_chromium,
]
PHONE_360 = {"width": 360, "height": 780}
DESKTOP = {"width": 1280, "height": 900}


async def _no_sideways_scroll(page: Any) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_360["width"], (page.url, width)


async def _form(page: Any, heading: str) -> Any:
    return page.locator("form", has=page.get_by_role("heading", name=heading))


@pytest.mark.timeout(240)
async def test_an_agent_builds_the_catalogue_in_a_browser(
    gateway, upstream, service_client, signer
) -> None:
    office: BackOffice = await start_office(gateway, upstream, service_client, signer)
    base = str(office.client.make_url("")).rstrip("/")
    name = f"Accueil de loisirs {uuid.uuid4().hex[:8]}"  # unique in the run's database
    violations: list[str] = []
    async with chromium() as browser:
        desk_context = await browser.new_context(viewport=DESKTOP, locale="fr-FR")
        desk = await desk_context.new_page()
        desk.on(
            "console",
            lambda m: violations.append(m.text) if "Content Security" in m.text else None,
        )
        await sign_in_on_page(desk, base, AGENT, PASSWORD)

        # From the back office's home to a new activity.
        await desk.get_by_role("link", name="Activités", exact=True).first.click()
        await desk.get_by_role("link", name="Nouvelle activité").click()
        await desk.get_by_label("Nom de l'activité").fill(name)
        await desk.get_by_label("automatique").check()
        await desk.get_by_label("Liste d'attente quand une journée est complète").check()
        ajout = desk.get_by_role("group", name="Délai pour réserver un jour")
        await ajout.get_by_label("Un nombre de jours avant, à une heure").check()
        await ajout.get_by_label("Nombre de jours avant", exact=True).fill("2")
        await ajout.get_by_label("À (heure)").fill("10:00")
        await desk.get_by_role("button", name="Créer l'activité").click()
        await desk.wait_for_load_state()
        status = desk.get_by_role("status")
        assert "ajoutez maintenant ses groupes" in await status.inner_text()
        activity_url = desk.url.split("?")[0]

        # A group whose ages are the wrong way round: the message sits beside the field.
        group = await _form(desk, "Ajouter un groupe")
        await group.get_by_label("Nom du groupe").fill("primaire")
        await group.get_by_label("Âge minimum").fill("11")
        await group.get_by_label("Âge maximum").fill("6")
        await group.get_by_role("button", name="Ajouter le groupe").click()
        await desk.wait_for_load_state()
        group = await _form(desk, "Ajouter un groupe")
        maximum = group.get_by_label("Âge maximum")
        assert await maximum.get_attribute("aria-invalid") == "true"
        assert "au moins égal à l'âge minimum" in await group.inner_text()
        await desk.screenshot(path=str(SCREENSHOTS / "catalogue-error.png"), full_page=True)
        await group.get_by_label("Âge minimum").fill("6")
        await maximum.fill("11")
        await group.get_by_label("Capacité").fill("24")
        await group.get_by_role("button", name="Ajouter le groupe").click()
        await desk.wait_for_load_state()
        assert "Groupe ajouté." in await desk.get_by_role("status").inner_text()

        unit = await _form(desk, "Ajouter une unité")
        await unit.get_by_label("Code").fill("journee")
        await unit.get_by_label("Libellé affiché").fill("Journée")
        await unit.get_by_label("Heure de début").fill("08:30")
        await unit.get_by_label("Heure de fin").fill("17:30")
        await unit.get_by_role("button", name="Ajouter l'unité").click()
        await desk.wait_for_load_state()
        assert "Unité ajoutée." in await desk.get_by_role("status").inner_text()
        # Each saved row's button says which group or unit it saves (one button per row).
        for button in ("Enregistrer le groupe « primaire »", "Enregistrer l'unité « Journée »"):
            assert await desk.get_by_role("button", name=button, exact=True).count() == 1, button
        await desk.screenshot(path=str(SCREENSHOTS / "catalogue-activity.png"), full_page=True)

        # A period of that activity, then its openings in bulk (Wednesdays).
        await desk.get_by_role("link", name="Nouvelle période").click()
        await desk.get_by_label("Nom de la période").fill("Vacances de printemps 2027")
        await desk.get_by_label("Année scolaire").fill("2026-2027")
        await desk.get_by_label("Premier jour").fill("2027-04-26")
        await desk.get_by_label("Dernier jour").fill("2027-05-07")
        await desk.get_by_label("Ouverture des inscriptions").fill("2027-03-29T00:00")
        await desk.get_by_label("Fermeture des inscriptions").fill("2027-04-09T00:00")
        await desk.get_by_role("button", name="Créer la période").click()
        await desk.wait_for_load_state()
        assert "ouvrez maintenant ses jours" in await desk.get_by_role("status").inner_text()
        openings_url = desk.url.split("?")[0]
        days = desk.get_by_role("group", name="Jours de la semaine")
        for day in ("lundi", "mardi", "jeudi", "vendredi"):
            await days.get_by_label(day).uncheck()
        await desk.get_by_label("Nombre de places par ouverture").fill("24")
        await desk.get_by_role("button", name="Créer les ouvertures").click()
        await desk.wait_for_load_state()
        assert "2 ouvertures créées." in await desk.get_by_role("status").inner_text()
        await desk.get_by_label("Mois").select_option("2027-05")
        await desk.get_by_role("button", name="Afficher").click()
        await desk.wait_for_load_state()
        assert await desk.locator("tr[data-opening]").count() == 1  # mercredi 5 mai
        await desk.get_by_role("link", name="Modifier").first.click()
        opening_url = desk.url
        await desk.get_by_label("Capacité").fill("20")
        await desk.get_by_label("Fermée", exact=False).check()
        await desk.get_by_role("button", name="Enregistrer l'ouverture").click()
        await desk.wait_for_load_state()
        assert "Ouverture enregistrée." in await desk.get_by_role("status").inner_text()
        row = await desk.locator("tr[data-opening]").inner_text()
        assert "mercredi 05/05/2027" in row and "20" in row and "fermée" in row
        await desk.screenshot(path=str(SCREENSHOTS / "catalogue-openings.png"), full_page=True)

        # A mistaken closed day: « Supprimer » asks first, then deletes.
        await desk.goto(f"{openings_url}?mois=2027-04")
        await desk.get_by_label("Fermé du").fill("2027-04-28")
        await desk.get_by_label("Motif").fill("Grève")
        await desk.get_by_role("button", name="Ajouter les jours de fermeture").click()
        await desk.wait_for_load_state()
        strike = "Supprimer le jour de fermeture du mercredi 28/04/2027"
        closures = desk.locator(
            "section", has=desk.get_by_role("heading", name="Jours de fermeture")
        )
        await closures.screenshot(path=str(SCREENSHOTS / "catalogue-closures.png"))
        await desk.get_by_role("button", name=strike).click()
        await desk.wait_for_load_state()
        assert await desk.get_by_role("heading", level=1).inner_text() == french_spacing(
            f"{strike} ?"
        )
        await desk.screenshot(path=str(SCREENSHOTS / "catalogue-confirm-delete.png"))
        await desk.get_by_role("button", name="Oui, supprimer").click()
        await desk.wait_for_load_state()
        assert "Jour de fermeture supprimé" in await desk.get_by_role("status").inner_text()
        assert await desk.get_by_role("button", name=strike).count() == 0

        # The same pages on a 360 px phone: nothing overflows sideways.
        phone_context = await browser.new_context(
            viewport=PHONE_360, device_scale_factor=2, is_mobile=True, locale="fr-FR",
            storage_state=await desk_context.storage_state(),
        )  # fmt: skip
        phone = await phone_context.new_page()
        pages = {
            "activities": f"{base}/agents/activites",
            "activity": activity_url,
            "periods": f"{base}/agents/periodes",
            "openings": f"{openings_url}?mois=2027-04",
            "window": openings_url.removesuffix("/ouvertures"),
            "opening": opening_url,
            "new-activity": f"{base}/agents/activites/nouvelle",
        }
        for label, url in pages.items():
            await phone.goto(url)
            await _no_sideways_scroll(phone)
            await phone.screenshot(
                path=str(SCREENSHOTS / f"catalogue-phone-{label}.png"), full_page=True
            )
        # The period's « Supprimer » on the phone: the question, then back without deleting.
        await phone.goto(pages["window"])
        await phone.get_by_role("button", name="Supprimer la période").click()
        await phone.wait_for_load_state()
        await _no_sideways_scroll(phone)
        await phone.screenshot(path=str(SCREENSHOTS / "catalogue-phone-confirm.png"))
        await phone.get_by_role("link", name="Non, revenir sans rien supprimer").click()
        await phone.wait_for_load_state()
        assert phone.url == f"{base}/agents/periodes"
    assert violations == []
    saved = [a for a in (await office.api("/activities"))["items"] if a["name"] == name]
    assert saved[0]["add_notice"]["days"] == 2 and saved[0]["groups"][0]["capacity"] == 24
