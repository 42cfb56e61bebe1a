"""The parent's « Modifier les coordonnées de la famille » after a 409, in a real (headless)
Chromium, on a phone and a desktop, through the real gateway and the real families service
(conftest's `portal`).

The structure saves the family while the parent is typing: the parent's request is refused
(409, the record changed meanwhile). The page must say so in French, show what the parent
typed (not sent), offer a form on the record as it is now, and not be a page whose reload
posts the stale form again (post/redirect/get). Screenshots:
/tmp/families-parent-edit-conflict-{phone,desktop}.png.
"""

from __future__ import annotations

from html import unescape
from typing import Any

import pytest

from tests.browser import PHONE, SCREENSHOTS, accessibility_violations, chromium, requires_chromium

from .conftest import Portal
from .pages import PARENT_EMAIL, post_form, text_of
from .test_staff_edit_browser import another_agent_saves

pytestmark = [pytest.mark.browser, requires_chromium]

DESKTOP = {"width": 1280, "height": 900}
CHANGED = "Votre dossier a été modifié entre-temps"


async def parent_page(browser: Any, portal: Portal, **options: Any) -> Any:
    """A browser page with the parent's session, opened through the gateway's sign-in."""
    visitor = await portal.visitor(PARENT_EMAIL)
    context = await browser.new_context(**options)
    await context.add_cookies(
        [
            {"name": cookie.key, "value": cookie.value, "url": portal.base_url}
            for cookie in visitor.session.cookie_jar
        ]
    )
    return await context.new_page()


async def pending_requests(portal: Portal) -> list[dict[str, Any]]:
    """The family's change requests as staff read them."""
    api = portal.api
    answer = await api.client.get(f"/families/{portal.family['id']}/requests", headers=api.staff())
    assert answer.status == 200, await answer.text()
    return list(await answer.json())


@pytest.mark.parametrize(
    ("name", "options", "phone"),
    [
        ("phone", {"viewport": PHONE, "is_mobile": True}, "05 59 44 44 44"),
        ("desktop", {"viewport": DESKTOP}, "05 59 55 55 55"),
    ],
)
async def test_a_request_refused_because_the_record_changed_is_no_trap(
    portal: Portal, name: str, options: dict[str, Any], phone: str
) -> None:
    async with chromium() as browser:
        page = await parent_page(browser, portal, locale="fr-FR", **options)
        await page.goto(f"{portal.base_url}/famille/modifier")
        await page.get_by_label("Commune").fill("Anglet")
        await another_agent_saves(portal, phone)  # the structure saves the family meanwhile

        posts: list[str] = []
        page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
        await page.get_by_role("button", name="Valider mes modifications").click()
        await page.wait_for_load_state()
        assert len(posts) == 1

        # Post/redirect/get: the page shown is a GET, the parent's value shown beside it.
        assert "/famille/modifier" in page.url
        alert = page.get_by_role("alert")
        said = await alert.inner_text()
        assert CHANGED in said, said
        assert "Anglet" in said  # what they typed, not lost silently
        # The form is the record as it is now: the structure's phone, a fresh version.
        assert await page.get_by_label("Téléphone du domicile").input_value() == phone
        await page.screenshot(
            path=str(SCREENSHOTS / f"families-parent-edit-conflict-{name}.png"), full_page=True
        )
        assert await accessibility_violations(page) == []

        await page.reload()
        await page.wait_for_load_state()
        assert len(posts) == 1, posts  # the reload posted nothing again
        assert CHANGED in await page.get_by_role("alert").inner_text()

        # Sending again from the fresh form works: the request is made.
        await page.get_by_label("Commune").fill("Anglet")
        await page.get_by_role("button", name="Valider mes modifications").click()
        await page.wait_for_load_state()
        assert "ok=enregistre" in page.url
        requests = [r for r in await pending_requests(portal) if r["state"] == "pending"]
        assert [c["new"] for r in requests for c in r["changes"]] == ["Anglet"]


async def test_a_request_on_fields_already_pending_is_no_trap_either(portal: Portal) -> None:
    """A second request on a field a pending one touches (409 pending-request-conflict):
    redirected (303) to the form, which says why next to the field, lists what was typed,
    keeps the other change typed, and reads the same again (in English too) without posting."""
    parent = await portal.visitor(PARENT_EMAIL)
    family = {
        "famille": portal.family["id"],
        "address": "1 rue des Écoles",
        "postal_code": "64240",
        "city": "Hasparren",
        "email": portal.family["email"],
    }
    first = await post_form(
        parent, "/famille/modifier", "/famille/modifier",
        {**family, "version": "1", "phone": "06 11 22 33 44"},
    )  # fmt: skip
    assert first.status == 303, await first.text()

    second = await post_form(
        parent, "/famille/modifier", "/famille/modifier",
        {**family, "version": "1", "phone": "06 99 88 77 66", "city": "Anglet",
         "lu.phone": "05 59 29 00 00", "lu.city": "Hasparren"},
    )  # fmt: skip
    assert second.status == 303, await second.text()
    location = second.headers["Location"]
    assert location.startswith("/famille/modifier?") and "refus=1" in location
    for _reload in range(2):
        page = await parent.get(location)
        assert page.status == 200
        html = unescape(await page.text())
        text = text_of(html)
        assert "Une demande en attente porte déjà sur ces champs" in text
        typed = text.split("Ce que vous aviez saisi (non envoyé) :", 1)[1]
        assert typed.startswith(" Commune : Anglet Téléphone du domicile : 06 99 88 77 66 ")
        assert 'id="phone-erreur">Une demande en attente porte déjà sur ce champ.' in html
        assert 'name="city" type="text" value="Anglet"' in html  # the other change kept
    english = text_of(unescape(await (await parent.get(location + "&lang=en")).text()))
    assert "What you had typed (not sent):" in english
    [pending] = [r for r in await pending_requests(portal) if r["state"] == "pending"]
    assert [c["new"] for c in pending["changes"]] == ["06 11 22 33 44"]


async def test_what_a_parent_typed_is_shown_to_that_session_only(portal: Portal) -> None:
    """The refused form waits under the session's hash: another session of the same parent,
    or a visitor without one, forging « ?refus=1 » sees none of it; a cross-site or
    tokenless post keeps nothing either."""
    parent = await portal.visitor(PARENT_EMAIL)
    family = {
        "famille": portal.family["id"],
        "address": "1 rue des Écoles",
        "postal_code": "64240",
        "city": "Hasparren",
        "email": portal.family["email"],
    }
    first = await post_form(
        parent, "/famille/modifier", "/famille/modifier",
        {**family, "version": "1", "phone": "06 11 22 33 44"},
    )  # fmt: skip
    assert first.status == 303, await first.text()
    typed = {**family, "version": "1", "phone": "06 99 88 77 66", "city": "Ciboure",
             "lu.phone": "05 59 29 00 00", "lu.city": "Hasparren"}  # fmt: skip
    second = await post_form(parent, "/famille/modifier", "/famille/modifier", typed)
    assert second.status == 303, await second.text()
    location = second.headers["Location"]
    assert "Ciboure" in unescape(await (await parent.get(location)).text())

    other_session = await portal.visitor(PARENT_EMAIL)
    page = await other_session.get(location)
    assert page.status == 200
    html = unescape(await page.text())
    assert "Ciboure" not in html and "06 99 88 77 66" not in html
    assert "Ce que vous aviez saisi" not in html
    anonymous = await portal.visitor()
    page = await anonymous.get(location, allow_redirects=False)
    assert page.status in (302, 303) and "Ciboure" not in await page.text()

    # Posted without the page's CSRF token, or from another site: refused, nothing kept.
    forged = {**typed, "city": "Urrugne"}
    for headers in ({"Origin": "https://ailleurs.example"}, {}):
        refused = await other_session.post(
            "/famille/modifier", data=forged, headers=headers, allow_redirects=False
        )
        assert refused.status == 403, refused.status
    again = unescape(await (await other_session.get(location)).text())
    assert "Urrugne" not in again and "Ce que vous aviez saisi" not in again
