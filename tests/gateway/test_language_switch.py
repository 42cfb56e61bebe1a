"""The « English » / « Français » link of a page that answers a form (POST). It pointed at the
form's own address with ?lang=en: by GET, « /reservations/enregistrer » answers 405 (« Action
not possible ») and « /premiere-connexion » without its token « This link is not valid » —
a parent who switched language after saving, or after a refused password, met an error page.
Now it leads to the page the form was sent from (same-origin Referer), else the dashboard."""

from __future__ import annotations

import html
import re

from aiohttp import web
from yarl import URL

from gateway.rendering import render

from .conftest import same_origin

FORM_PAGE = "/essai-formulaire"
ANSWER = "/essai-formulaire/envoyer"  # POST only, like « /reservations/enregistrer »


def form_pages(app: web.Application) -> None:
    async def answer(request: web.Request) -> web.Response:
        await request.post()  # as every form page does: the request can no longer be cloned
        return await render(request, "account/link_sent.html", {"purpose": "reset"})

    app.router.add_get(FORM_PAGE, answer)
    app.router.add_post(ANSWER, answer)


def switch_link(page: str) -> URL:
    found = re.search(r'class="lang-switch" href="([^"]+)"', page)
    assert found, page
    return URL(html.unescape(found.group(1)))


async def test_the_language_link_of_a_form_answer_leads_to_the_page_the_form_was_sent_from(
    gateway,
) -> None:
    client = await gateway(setup=form_pages)
    origin = same_origin(client)["Origin"]

    answered = await client.post(
        ANSWER,
        data={"champ": "valeur"},
        headers={**same_origin(client), "Referer": f"{origin}{FORM_PAGE}?semaine=2"},
    )

    assert answered.status == 200
    link = switch_link(await answered.text())
    assert link == URL(FORM_PAGE).with_query(semaine="2", lang="en")
    assert (await client.get(str(link))).status == 200


async def test_without_a_page_to_go_back_to_the_language_link_leads_to_the_dashboard(
    gateway,
) -> None:
    client = await gateway(setup=form_pages)
    origin = same_origin(client)["Origin"]
    for referer in (
        None,  # a browser that sends none
        f"{origin}{ANSWER}",  # the answer itself, re-sent: its address has no page by GET
        "https://ailleurs.example/essai-formulaire",  # another site's page is not ours
        "http://[invalide",
    ):
        headers = same_origin(client) | ({"Referer": referer} if referer else {})

        answered = await client.post(ANSWER, headers=headers)

        assert switch_link(await answered.text()) == URL("/?lang=en"), referer


async def test_a_page_read_by_get_keeps_its_own_address_in_its_language_link(gateway) -> None:
    client = await gateway(setup=form_pages)

    page = await client.get(FORM_PAGE + "?semaine=2", headers={"Referer": "http://x.example/"})

    assert switch_link(await page.text()) == URL(FORM_PAGE).with_query(semaine="2", lang="en")
