"""The web app shell: French error pages, the English switch, the menu, the dashboard."""

from __future__ import annotations

import re
import time

import pytest
from yarl import URL

from .conftest import dead_url, same_origin
from .fakes import CALLS, PASSWORD, FakeAuth, dashboard_app

EMAIL = "famille.test@example.org"


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def tile(html: str, key: str) -> str:
    match = re.search(rf'<li class="tile[^"]*" data-tile="{key}">(.*?)</li>', html, re.S)
    assert match, f"no tile {key}"
    return text_of(match.group(1))


async def test_an_unknown_page_is_a_french_404_page(gateway) -> None:
    client = await gateway()
    response = await client.get("/nulle-part")
    assert response.status == 404
    assert response.content_type == "text/html"
    html = await response.text()
    assert '<html lang="fr">' in html
    assert "Page introuvable" in html
    assert '<main id="contenu"' in html and 'href="#contenu"' in html


async def test_an_unknown_api_address_is_problem_json_not_a_page(gateway) -> None:
    client = await gateway()
    response = await client.get("/api/families")
    assert response.status == 404
    assert response.content_type == "application/problem+json"


async def test_a_dead_service_behind_a_page_is_a_french_503_page(gateway) -> None:
    client = await gateway()  # auth is dead: the session cannot be exchanged
    client.session.cookie_jar.update_cookies({"portail_session": "whatever"})
    response = await client.get("/")
    assert response.status == 503
    assert "Service momentanément indisponible" in await response.text()


async def test_english_is_chosen_with_lang_and_remembered_in_a_cookie(gateway) -> None:
    client = await gateway()
    response = await client.get("/connexion?lang=en")
    html = await response.text()
    assert '<html lang="en">' in html
    assert "E-mail address" in html
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("lang=en") and "SameSite=Lax" in cookie
    again = await client.get("/nulle-part")
    assert "Page not found" in await again.text()
    back = await client.get("/connexion?lang=fr")
    assert "Adresse électronique" in await back.text()


async def test_the_dashboard_needs_a_signed_in_visitor(gateway) -> None:
    client = await gateway()
    response = await client.get("/?famille=fam-2", allow_redirects=False)
    assert response.status == 303
    location = URL(response.headers["Location"])
    assert location.path == "/connexion"
    assert location.query["suite"] == "/?famille=fam-2"


@pytest.fixture
async def signed_in(gateway, upstream, signer):
    """A gateway with an auth service and a signed-in family; services given per test."""

    async def make(services: dict[str, str], families: list[str] | None = None, **settings):
        fake = FakeAuth(signer, accounts={EMAIL: families or ["fam-1"]})
        auth = await upstream(fake.app())
        client = await gateway({"auth": auth.url, **services}, **settings)
        response = await client.post(
            "/connexion",
            data={"email": EMAIL, "password": PASSWORD},
            headers=same_origin(client),
            allow_redirects=False,
        )
        assert response.status == 303
        return client

    return make


async def test_the_dashboard_shows_every_tile_even_when_services_are_down_or_slow(
    signed_in, upstream
) -> None:
    families = await upstream(dashboard_app({"famille": {"count": 1}}))
    bookings = await upstream(dashboard_app({"inscriptions": {"count": 2}}, delay=6))
    documents = await upstream(
        dashboard_app({"documents": {"count": 4}, "documentation": {"count": 8}})
    )
    notifications = await upstream(
        dashboard_app({"historique": {"count": 3}, "contact": {"count": 0}}, delay=6)
    )
    client = await signed_in(
        {
            "families": families.url,
            "bookings": bookings.url,
            "documents": documents.url,
            "notifications": notifications.url,
            "billing": dead_url(),
        },
        dashboard_deadline_seconds=1.0,
    )
    started = time.perf_counter()
    response = await client.get("/")
    elapsed = time.perf_counter() - started
    assert response.status == 200
    html = await response.text()
    # Two services hang 6 s, each cut at 1 s: asked one after the other it would take ≥ 2 s
    # (the margin is for a loaded machine, where the cut itself comes late).
    assert elapsed < 2.0

    assert tile(html, "famille") == "Ma famille 1 Personne Afficher ma famille"
    unavailable = "Service momentanément indisponible"
    assert (
        tile(html, "inscriptions") == f"Mes inscriptions {unavailable} Consulter mes inscriptions"
    )
    assert tile(html, "documents") == "Mes documents 4 Attendus Documents de ma famille"
    assert tile(html, "documentation") == (
        "Documentation structure 8 Documents Télécharger des documents"
    )
    assert tile(html, "factures") == f"Mes factures {unavailable} Consulter mes factures"
    assert unavailable in tile(html, "historique")
    assert unavailable in tile(html, "contact")
    for entry in ("Mon tableau de bord", "Ma famille", "Mes inscriptions", "Mes réservations",
                  "Mes factures", "Mes documents", "Historique de mes actions",
                  "Documentation structure", "Contacter la structure", "Mot de passe"):  # fmt: skip
        assert f">{entry}</a>" in html, entry
    assert 'href="/" aria-current="page"' in html
    sent = families.server.app[CALLS][0]
    assert sent.startswith("Bearer ")


async def test_the_dashboard_shows_news_and_lets_a_multi_family_account_choose(
    signed_in, upstream
) -> None:
    notifications = await upstream(
        dashboard_app(
            {
                "historique": {"count": 1},
                "contact": {"count": 0},
                "news": [{"title": "Inscriptions", "text": "<b>ALSH Josta Leku</b> du 27 mars"}],
            }
        )
    )
    families = await upstream(dashboard_app({"famille": {"count": 3}}))
    client = await signed_in(
        {"notifications": notifications.url, "families": families.url},
        families=["fam-1", "fam-2"],
    )
    html = await (await client.get("/?famille=fam-2")).text()
    assert "&lt;b&gt;ALSH Josta Leku&lt;/b&gt; du 27 mars" in html  # escaped, never raw HTML
    assert '<option value="fam-2" selected>' in html
    assert tile(html, "famille") == "Ma famille 3 Personnes Afficher ma famille"
    assert "Service momentanément indisponible" in tile(html, "factures")
    foreign = await client.get("/?famille=fam-9")
    assert foreign.status == 404  # not one of ours: refused, not replaced by the first one
    first = await (await client.get("/")).text()
    assert '<option value="fam-1" selected>' in first  # none asked: the first one


async def test_the_dashboard_in_english(signed_in, upstream) -> None:
    families = await upstream(dashboard_app({"famille": {"count": 2}}))
    client = await signed_in({"families": families.url})
    html = await (await client.get("/?lang=en")).text()
    assert tile(html, "famille") == "My family 2 People Show my family"
    assert ">My invoices</a>" in html


@pytest.mark.parametrize(
    ("count", "french", "english"),
    [(1, "1 Document", "1 Document"), (8, "8 Documents", "8 Documents")],
)
async def test_the_structure_documentation_tile_says_what_it_counts(
    signed_in, upstream, count: int, french: str, english: str
) -> None:
    # It showed a bare « 8 », beside « 4 Attendus » and « 1 Personne » on the other tiles.
    documents = await upstream(dashboard_app({"documentation": {"count": count}}))
    client = await signed_in({"documents": documents.url})
    html = await (await client.get("/?lang=fr")).text()
    assert (
        tile(html, "documentation") == f"Documentation structure {french} Télécharger des documents"
    )
    html = await (await client.get("/?lang=en")).text()
    assert (
        tile(html, "documentation") == f"Documents from the structure {english} Download documents"
    )
