"""Registration refusals of the real bookings service, on English pages (by the template of
the service's sentence, names kept), while French pages keep the service's own sentence."""

from __future__ import annotations

import pytest

from tests.browser import SCREENSHOTS, chromium, requires_chromium, sign_in_on_page

from .portal import PARENT_EMAIL, PASSWORD, Portal
from .test_pages import csrf, sign_in, text_of


async def test_a_second_request_is_refused_in_english_on_english_pages(portal: Portal) -> None:
    client, base = portal.gateway, portal.base_url
    await sign_in(client, base, PARENT_EMAIL)
    query = {"famille": portal.family_id, "personne": portal.child_id}
    html = await (await client.get("/inscriptions", params=query)).text()
    form = {
        "csrf_token": csrf(html),
        **query,
        "choix": f"{portal.activity['id']}|{portal.period['id']}",
    }
    first = await client.post(
        "/inscriptions/demande", data=form, headers={"Origin": base}, allow_redirects=False
    )
    assert first.status == 303, await first.text()

    french = await client.post("/inscriptions/demande", data=form, headers={"Origin": base})
    english = await client.post(
        "/inscriptions/demande?lang=en", data=form, headers={"Origin": base}
    )

    assert french.status == english.status == 409
    assert "Enfant TEST a déjà une inscription demandée" in text_of(await french.text())
    shown = text_of(await english.text())
    # The child, the activity and the period, as the French sentence names them.
    activity = portal.activity["name"]
    assert (
        f"Enfant TEST already has a registration (requested) to “{activity}” for "
        "“Vacances de printemps 2027”." in shown
    )
    assert "a déjà une inscription" not in shown


@pytest.mark.browser
@pytest.mark.timeout(180)
@requires_chromium
async def test_the_english_refusal_reads_well_on_a_phone(portal: Portal) -> None:
    base = portal.base_url
    choice = f"{portal.activity['id']}|{portal.period['id']}"
    page_url = f"{base}/inscriptions?famille={portal.family_id}&personne={portal.child_id}"
    async with chromium() as browser:
        context = await browser.new_context(
            viewport={"width": 360, "height": 780}, device_scale_factor=2, is_mobile=True
        )
        page = await context.new_page()
        await sign_in_on_page(page, base, PARENT_EMAIL, PASSWORD)
        # Two tabs opened before asking: the second one's request is refused (a fresh page
        # would not offer the period asked already).
        stale = await context.new_page()
        for tab in (page, stale):
            await tab.goto(page_url + "&lang=en")
        for tab in (page, stale):
            await tab.locator("select#choix").select_option(choice)
            await tab.locator("form[action='/inscriptions/demande'] button").click()
            await tab.wait_for_load_state()
        page = stale

        alert = await page.get_by_role("alert").inner_text()
        width = await page.evaluate("document.documentElement.scrollWidth")
        await page.screenshot(path=str(SCREENSHOTS / "bookings-refusal-en.png"), full_page=True)

    assert alert.startswith("Enfant TEST already has a registration (requested) to “")
    assert width <= 360
