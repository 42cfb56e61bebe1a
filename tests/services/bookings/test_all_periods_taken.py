"""« Mes inscriptions » when every period of an activity is asked or registered already: a
sentence says so, and no form offers a button that can only fail; the service still refuses
a request sent from a page opened before, in French — through the real gateway, bookings,
families and documents services, and in Chromium on a phone and a desktop."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from services.bookings.models import Period
from services.kit.keys import DATABASE
from services.kit.testing import TestSigner
from tests.browser import PHONE, SCREENSHOTS, chromium, requires_chromium, sign_in_on_page

from .factories import staff
from .portal import PARENT_EMAIL, PASSWORD, Portal
from .test_pages import csrf, sign_in, text_of

DESKTOP = {"width": 1280, "height": 900}
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


def every_period_taken(portal: Portal) -> str:
    return (
        f"Toutes les périodes de « {portal.activity['name']} » sont déjà demandées ou "
        "acceptées pour Enfant TEST."
    )


async def only_this_activity_open(portal: Portal) -> None:
    """Close the registration windows that earlier tests left open in this run's catalogue,
    so that the portal's activity is the only one a family may ask."""
    assert portal.bookings is not None
    async with portal.bookings.app[DATABASE].transaction() as session:
        await session.execute(
            update(Period)
            .where(Period.activity_id != portal.activity["id"])
            .values(registration_opens_at=LONG_AGO, registration_closes_at=LONG_AGO + timedelta(1))
        )


def offers_the_request_form(html: str) -> bool:
    return 'action="/inscriptions/demande"' in html or "Demander l&#39;inscription" in html


async def ask(portal: Portal, token: str) -> Any:
    """The request form's POST for the portal's only period, as a page opened earlier sends it."""
    return await portal.gateway.post(
        "/inscriptions/demande",
        data={
            "csrf_token": token,
            "famille": portal.family_id,
            "personne": portal.child_id,
            "choix": f"{portal.activity['id']}|{portal.period['id']}",
        },
        headers={"Origin": portal.base_url},
        allow_redirects=False,
    )


async def test_every_period_asked_or_accepted_is_said_and_no_form_is_offered(
    portal: Portal, signer: TestSigner
) -> None:
    await only_this_activity_open(portal)
    client = portal.gateway
    member = {"famille": portal.family_id, "personne": portal.child_id}
    await sign_in(client, portal.base_url, PARENT_EMAIL)
    before = await (await client.get("/inscriptions", params=member)).text()
    assert offers_the_request_form(before)
    assert every_period_taken(portal) not in text_of(before)
    token = csrf(before)

    asked = await ask(portal, token)
    assert asked.status == 303, await asked.text()
    requested = await (await client.get(asked.headers["Location"])).text()
    assert every_period_taken(portal) in text_of(requested)
    assert not offers_the_request_form(requested)
    assert "Aucune inscription n'est ouverte" not in text_of(requested)

    # The page opened before still holds the form: the service refuses, in French.
    again = await ask(portal, token)
    assert again.status == 409
    refused = text_of(await again.text())
    assert (
        f"Enfant TEST a déjà une inscription demandée à « {portal.activity['name']} » "
        "pour « Vacances de printemps 2027 »." in refused
    )
    assert every_period_taken(portal) in refused

    # Accepted by staff: still nothing to ask, and a stale request is refused as accepted.
    assert portal.bookings is not None
    listed = await portal.bookings.get(
        f"/families/{portal.family_id}/registrations", headers=staff(signer)
    )
    (registration,) = (await listed.json())["items"]
    accepted = await portal.bookings.post(
        f"/registrations/{registration['id']}/accept", json={}, headers=staff(signer)
    )
    assert accepted.status == 200, await accepted.text()
    page = await (await client.get("/inscriptions", params=member)).text()
    assert every_period_taken(portal) in text_of(page)
    assert not offers_the_request_form(page)
    after_acceptance = text_of(await (await ask(portal, token)).text())
    assert (
        f"Enfant TEST a déjà une inscription acceptée à « {portal.activity['name']} » "
        "pour « Vacances de printemps 2027 »." in after_acceptance
    )

    english = await client.get("/inscriptions", params={**member, "lang": "en"})
    assert (
        f"Every period of “{portal.activity['name']}” has already been requested or accepted "
        "for Enfant TEST." in text_of(await english.text())
    )


@pytest.mark.browser
@requires_chromium
@pytest.mark.timeout(180)
@pytest.mark.parametrize(("size", "viewport"), [("phone", PHONE), ("desktop", DESKTOP)])
async def test_the_sentence_replaces_the_form_on_a_phone_and_a_desktop(
    portal: Portal, size: str, viewport: dict[str, int]
) -> None:
    await only_this_activity_open(portal)
    base = portal.base_url
    async with chromium() as browser:
        page = await browser.new_page(viewport=viewport, is_mobile=size == "phone")
        await sign_in_on_page(page, base, PARENT_EMAIL, PASSWORD)
        await page.goto(f"{base}/inscriptions?famille={portal.family_id}")
        await page.get_by_role("link", name="Enfant TEST").click()
        await page.get_by_label("Activité et période").select_option(
            f"{portal.activity['id']}|{portal.period['id']}"
        )
        await page.get_by_role("button", name="Demander l'inscription").click()
        await page.wait_for_url(re.compile(r"ok=envoyee"))
        said = page.locator("[data-all-taken]")
        assert " ".join((await said.inner_text()).split()) == every_period_taken(portal)
        assert await page.get_by_role("button", name="Demander l'inscription").count() == 0
        assert await page.get_by_label("Activité et période").count() == 0
        assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        await page.screenshot(
            path=str(SCREENSHOTS / f"inscriptions-all-taken-{size}.png"), full_page=True
        )
