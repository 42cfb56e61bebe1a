"""In a real (headless) Chromium: a parent asks to register Enfant TEST to the ALSH Josta Leku,
an agent accepts, the parent sees it accepted."""

from __future__ import annotations

import pytest

from services.kit.testing import TestSigner
from tests.browser import PHONE, SCREENSHOTS, chromium, requires_chromium, sign_in_on_page

from .factories import create_period
from .portal import PARENT_EMAIL, PASSWORD, STAFF_EMAIL, Portal

DESKTOP = {"width": 1280, "height": 900}

pytestmark = [
    pytest.mark.browser,
    requires_chromium,
]


@pytest.mark.timeout(180)
async def test_a_parent_requests_the_alsh_for_enfant_test_and_staff_accept(
    portal: Portal, signer: TestSigner
) -> None:
    base = portal.base_url
    # A second period stays open: the form is still offered, the period asked greyed in it.
    assert portal.bookings is not None
    await create_period(portal.bookings, signer, portal.activity["id"], name="Vacances d'été 2027")
    choice = f"{portal.activity['id']}|{portal.period['id']}"
    violations: list[str] = []
    async with chromium() as browser:
        parent_context = await browser.new_context(
            viewport=PHONE, device_scale_factor=2, is_mobile=True
        )
        parent = await parent_context.new_page()
        parent.on(
            "console",
            lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
        )
        await sign_in_on_page(parent, base, PARENT_EMAIL, PASSWORD)
        await parent.goto(f"{base}/inscriptions")
        assert await parent.title() == "Mes inscriptions — Mairie de Hasparren"
        await parent.get_by_role("link", name="Enfant TEST").click()
        await parent.wait_for_load_state()
        assert "Aucune inscription." in await parent.locator("main").inner_text()
        select = parent.get_by_label("Activité et période")
        assert "ALSH Josta Leku" in await select.inner_text()
        await select.select_option(choice)
        await parent.get_by_role("button", name="Demander l'inscription").click()
        await parent.wait_for_load_state()
        status = parent.get_by_role("status")
        assert "Votre demande d'inscription a été enregistrée." in await status.inner_text()
        assert "demandée" in await parent.locator(".registrations").inner_text()
        width = await parent.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]  # nothing overflows sideways on a phone
        await parent.screenshot(path=str(SCREENSHOTS / "bookings-requested.png"), full_page=True)
        # Post/Redirect/Get: the address is the page's, so a refresh sends nothing again.
        assert "/inscriptions/demande" not in parent.url and "ok=envoyee" in parent.url
        await parent.reload()
        assert await parent.get_by_role("alert").count() == 0
        assert await parent.locator(".registrations tbody tr").count() == 1
        # The period asked is shown greyed with why, and cannot be chosen again.
        asked = parent.locator(f"select#choix option[value='{choice}']")
        assert await asked.is_disabled()
        assert (await asked.inner_text()).endswith("(déjà demandée)")
        await parent.screenshot(
            path=str(SCREENSHOTS / "helperH-inscription-phone.png"), full_page=True
        )
        # A closed list shows one line: opened as a box, for the picture, to see the rest.
        await asked.evaluate("o => { o.parentElement.parentElement.size = 8; o.scrollIntoView(); }")
        await parent.locator("form[action='/inscriptions/demande']").screenshot(
            path=str(SCREENSHOTS / "helperH-choices-phone.png")
        )

        staff_context = await browser.new_context(viewport=DESKTOP)
        agent = await staff_context.new_page()
        await sign_in_on_page(agent, base, STAFF_EMAIL, PASSWORD)
        await agent.goto(f"{base}/agents/inscriptions")
        await agent.get_by_label("Activité").select_option(portal.activity["id"])
        await agent.get_by_role("button", name="Filtrer").click()
        await agent.wait_for_load_state()
        row = agent.locator("tr", has_text="Enfant TEST").filter(has_text=portal.activity["name"])
        await agent.screenshot(path=str(SCREENSHOTS / "bookings-queue.png"), full_page=True)
        await row.get_by_role("button", name="Accepter").click()
        await agent.wait_for_load_state()
        assert "Demande acceptée." in await agent.get_by_role("status").inner_text()
        assert agent.url.startswith(f"{base}/agents/inscriptions?")  # not the POST
        await agent.reload()
        assert await agent.get_by_role("alert").count() == 0
        await agent.screenshot(
            path=str(SCREENSHOTS / "helperH-decision-desktop.png"), full_page=True
        )

        await parent.goto(
            f"{base}/inscriptions?famille={portal.family_id}&personne={portal.child_id}"
        )
        table = await parent.locator(".registrations").inner_text()
        assert "acceptée" in table and portal.activity["name"] in table
        await parent.screenshot(path=str(SCREENSHOTS / "bookings-accepted.png"), full_page=True)
    assert violations == []
