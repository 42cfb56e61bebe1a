"""« Mes inscriptions » offers a person only the activities and periods some group of which
takes their age at the period's first day — the bookings service's own rule — and names the
activities left out for age in one line; without a birth date it offers everything (the
service asks for it). Each choice is then sent to the service, which judges it the same way.
Through the real gateway, bookings, families and documents services, and in Chromium on a
phone and a desktop, in French and in English."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from services.bookings.ages import age_on
from services.kit.testing import TestSigner
from tests.browser import PHONE, SCREENSHOTS, chromium, requires_chromium, sign_in_on_page

from .factories import create_period, staff
from .portal import PARENT_EMAIL, PASSWORD, Portal
from .test_all_periods_taken import only_this_activity_open
from .test_pages import csrf, sign_in, text_of

DESKTOP = {"width": 1280, "height": 900}
# The portal's ALSH takes 3 to 11 year-olds (maternelle 3–5, primaire 6–11); its spring
# period starts on Monday 19 April 2027.
ADULT_BIRTH = "1985-06-01"  # 41 on 19/04/2027


async def add_person(
    portal: Portal, service_client: Any, signer: TestSigner, first_name: str, **fields: Any
) -> str:
    """A member of the portal's family, made by staff in the real families service."""
    families = await service_client("families")
    created = await families.post(
        f"/families/{portal.family_id}/persons",
        json={"first_name": first_name, "last_name": "TEST", **fields},
        headers=staff(signer),
    )
    assert created.status == 201, await created.text()
    return str((await created.json())["id"])


def options(html: str) -> dict[str, bool]:
    """The request form's choices: `activity|period` → offered (True) or shown disabled."""
    return {
        value: "disabled" not in rest
        for value, rest in re.findall(r'<option value="([^"|]+\|[^"]+)"([^>]*)>', html)
    }


def offered(html: str, portal: Portal, period: dict[str, Any] | None = None) -> bool:
    choice = f"{portal.activity['id']}|{(period or portal.period)['id']}"
    return options(html).get(choice, False)


def age_line(portal: Portal, name: str) -> str:
    return f"Hors des âges accueillis pour {name} : {portal.activity['name']} (3 à 11 ans)"


async def page_of(portal: Portal, person_id: str, **params: str) -> str:
    member = {"famille": portal.family_id, "personne": person_id, **params}
    response = await portal.gateway.get("/inscriptions", params=member)
    assert response.status == 200
    return await response.text()


async def ask(portal: Portal, html: str, person_id: str, period: dict[str, Any]) -> Any:
    """The form's POST for this period, whether the page offered it or not."""
    return await portal.gateway.post(
        "/inscriptions/demande",
        data={
            "csrf_token": csrf(html),
            "famille": portal.family_id,
            "personne": person_id,
            "choix": f"{portal.activity['id']}|{period['id']}",
        },
        headers={"Origin": portal.base_url},
        allow_redirects=False,
    )


def test_ages_count_whole_years_on_the_day() -> None:
    # The page and the service share this function (services/bookings/ages.py).
    assert age_on(date(2015, 4, 19), date(2027, 4, 19)) == 12  # the birthday itself
    assert age_on(date(2015, 4, 20), date(2027, 4, 19)) == 11  # the day before it
    assert age_on(date(2016, 2, 29), date(2027, 2, 28)) == 10
    assert age_on(date(2016, 2, 29), date(2027, 3, 1)) == 11
    assert age_on(date(2016, 2, 29), date(2028, 2, 29)) == 12


async def test_an_adult_is_not_offered_the_alsh_and_reads_why(
    portal: Portal, service_client: Any, signer: TestSigner
) -> None:
    await only_this_activity_open(portal)
    adult = await add_person(
        portal, service_client, signer, "Parent", role="responsable", birth_date=ADULT_BIRTH
    )
    await sign_in(portal.gateway, portal.base_url, PARENT_EMAIL)
    html = await page_of(portal, adult)
    assert not offered(html, portal)
    assert 'action="/inscriptions/demande"' not in html  # nothing else to ask: no form
    assert age_line(portal, "Parent TEST") in text_of(html)
    assert "Aucune inscription n'est ouverte" not in text_of(html)

    # A page opened before (or a forged form): the service still refuses, in French.
    child_page = await page_of(portal, portal.child_id)
    refused = await ask(portal, child_page, adult, portal.period)
    assert refused.status == 422, await refused.text()
    assert (
        f"Parent TEST aura 41 ans le 19/04/2027 : « {portal.activity['name']} » accueille "
        "les enfants de 3 à 11 ans." in text_of(await refused.text())
    )

    english = text_of(await page_of(portal, adult, lang="en"))
    assert f"Not for Parent TEST's age: {portal.activity['name']} (ages 3 to 11)" in english


@pytest.mark.parametrize(
    ("birth_date", "is_offered"),
    [
        ("2015-04-20", True),  # still 11 on 19/04/2027 (12 the day after)
        ("2015-04-19", False),  # 12 on the first day itself
        ("2015-04-18", False),  # turns 12 the day before the first day
    ],
)
async def test_a_child_is_offered_the_alsh_only_at_an_age_it_takes(
    portal: Portal, service_client: Any, signer: TestSigner, birth_date: str, is_offered: bool
) -> None:
    await only_this_activity_open(portal)
    child = await add_person(
        portal, service_client, signer, "Aîné", role="child", birth_date=birth_date
    )
    await sign_in(portal.gateway, portal.base_url, PARENT_EMAIL)
    html = await page_of(portal, child)
    assert offered(html, portal) is is_offered
    assert (age_line(portal, "Aîné TEST") in text_of(html)) is not is_offered

    # The service judges it the same way.
    sent = await ask(portal, html, child, portal.period)
    assert sent.status == (303 if is_offered else 422), await sent.text()


async def test_the_child_of_the_demo_is_offered_the_alsh(portal: Portal) -> None:
    await only_this_activity_open(portal)
    await sign_in(portal.gateway, portal.base_url, PARENT_EMAIL)
    html = await page_of(portal, portal.child_id)  # Enfant TEST, born 12/05/2019: 7
    assert offered(html, portal)
    assert "Hors des âges accueillis" not in text_of(html)


async def test_a_period_past_the_age_is_shown_disabled_beside_one_still_offered(
    portal: Portal, service_client: Any, signer: TestSigner
) -> None:
    await only_this_activity_open(portal)
    assert portal.bookings is not None
    summer = await create_period(
        portal.bookings, signer, portal.activity["id"],
        name="Été 2027", starts_on="2027-07-07", ends_on="2027-07-30",
    )  # fmt: skip
    child = await add_person(
        portal, service_client, signer, "Aîné", role="child", birth_date="2015-04-20"
    )
    await sign_in(portal.gateway, portal.base_url, PARENT_EMAIL)
    html = await page_of(portal, child)
    assert offered(html, portal)  # 11 on 19/04/2027
    assert f"{portal.activity['id']}|{summer['id']}" in options(html)
    assert not offered(html, portal, summer)  # 12 on 07/07/2027
    assert f"{portal.activity['name']} — Été 2027 (pas à son âge)" in text_of(html)
    assert "Hors des âges accueillis" not in text_of(html)
    english = text_of(await page_of(portal, child, lang="en"))
    assert f"{portal.activity['name']} — Été 2027 (not for their age)" in english
    refused = await ask(portal, html, child, summer)
    assert refused.status == 422, await refused.text()


async def test_a_person_without_a_birth_date_is_offered_it_and_the_service_asks_for_it(
    portal: Portal, service_client: Any, signer: TestSigner
) -> None:
    await only_this_activity_open(portal)
    unknown = await add_person(portal, service_client, signer, "Cadet", role="child")
    await sign_in(portal.gateway, portal.base_url, PARENT_EMAIL)
    html = await page_of(portal, unknown)
    assert offered(html, portal)
    assert "Hors des âges accueillis" not in text_of(html)
    refused = await ask(portal, html, unknown, portal.period)
    assert refused.status == 422, await refused.text()
    assert "La date de naissance de Cadet TEST n'est pas renseignée" in text_of(
        await refused.text()
    )


@pytest.mark.browser
@requires_chromium
@pytest.mark.timeout(180)
@pytest.mark.parametrize(("size", "viewport"), [("phone", PHONE), ("desktop", DESKTOP)])
@pytest.mark.parametrize(
    ("language", "line"),
    [("fr", "Hors des âges accueillis pour Parent TEST :"), ("en", "Not for Parent TEST's age:")],
)
async def test_the_line_replaces_the_alsh_on_a_phone_and_a_desktop(
    portal: Portal,
    service_client: Any,
    signer: TestSigner,
    size: str,
    viewport: dict[str, int],
    language: str,
    line: str,
) -> None:
    await only_this_activity_open(portal)
    assert portal.bookings is not None
    await create_period(
        portal.bookings, signer, portal.activity["id"],
        name="Été 2027", starts_on="2027-07-07", ends_on="2027-07-30",
    )  # fmt: skip
    await add_person(
        portal, service_client, signer, "Parent", role="responsable", birth_date=ADULT_BIRTH
    )
    await add_person(portal, service_client, signer, "Aîné", role="child", birth_date="2015-04-20")
    base = portal.base_url
    async with chromium() as browser:
        page = await browser.new_page(viewport=viewport, is_mobile=size == "phone")
        await sign_in_on_page(page, base, PARENT_EMAIL, PASSWORD)
        await page.goto(f"{base}/inscriptions?famille={portal.family_id}&lang={language}")
        await page.get_by_role("link", name="Parent TEST").click()
        said = page.locator("[data-age-left-out]")
        text = " ".join((await said.inner_text()).split())
        assert text.startswith(line) and portal.activity["name"] in text
        assert await page.locator("#choix").count() == 0
        assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        await page.screenshot(
            path=str(SCREENSHOTS / f"inscriptions-age-adult-{language}-{size}.png"),
            full_page=True,
        )
        await page.get_by_role("link", name="Aîné TEST").click()
        assert await page.locator("[data-age-left-out]").count() == 0
        assert await page.locator("#choix option[disabled]").count() == 1
        assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        await page.screenshot(
            path=str(SCREENSHOTS / f"inscriptions-age-child-{language}-{size}.png"),
            full_page=True,
        )
