"""French typography on the pages, through the real gateway and the real families, billing,
notifications and documents services: no ordinary space before « : ; ! ? » nor inside
« guillemets », where a browser could break the line and leave « : » alone at the start of
the next one (services/kit/typography.py). English pages, scripts, code, times, URLs and the
JSON APIs keep their text as it was.

Found on a phone: « Mes données : télécharger toutes les données de ma famille » wrapped
before its colon.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest

from services.kit.typography import (
    NARROW_NO_BREAK_SPACE,
    NO_BREAK_SPACE,
    french_html,
    french_spacing,
)
from tests.browser import PHONE, SCREENSHOTS, chromium, requires_chromium, sign_in_on_page
from tests.services.families.pages import post_form

from . import test_i18n_coverage as coverage
from .fakes import PASSWORD

# The real families, billing, notifications and documents services, a household, a parent
# and an agent: the English coverage test's fixtures, here read in French.
families_database = coverage.families_database
portal = coverage.portal
whole_portal = coverage.whole_portal
PARENT = coverage.PARENT

# A breakable (ASCII) space where French wants a no-break one.
BREAKABLE = re.compile(r"[ \t\r\n]+[:;!?»]|«[ \t\r\n]+")


class ShownText(HTMLParser):
    """A page's text as a person reads it (across elements: « <strong>Attention</strong> : »
    breaks as well), and the attributes read as text, apart; scripts, styles, code and form
    contents left out."""

    SPOKEN = ("aria-label", "title", "placeholder", "alt")
    NOT_TEXT = ("script", "style", "textarea", "pre", "code", "kbd", "samp")

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.attributes: list[str] = []
        self._inside: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.NOT_TEXT:
            self._inside.append(tag)
        self.attributes.extend(v or "" for k, v in attrs if k in self.SPOKEN)

    def handle_endtag(self, tag: str) -> None:
        if self._inside and self._inside[-1] == tag:
            self._inside.pop()

    def handle_data(self, data: str) -> None:
        if not self._inside:
            self.text.append(data)


def breakable_spaces(html: str) -> list[str]:
    """Each place of the page's shown text with an ordinary space before « : ; ! ? » or
    inside « », with a few words around it."""
    reader = ShownText()
    reader.feed(html)
    found = []
    for text in ("".join(reader.text), *reader.attributes):
        for place in BREAKABLE.finditer(text):
            found.append(" ".join(text[max(0, place.start() - 40) : place.end() + 20].split()))
    return found


def script_of(html: str, contains: str) -> str:
    """The page's <script> that contains `contains`."""
    for script in re.findall(r"<script\b[^>]*>(.*?)</script>", html, re.S):
        if contains in script:
            return str(script)
    raise AssertionError(f"no script with {contains!r}")


async def _french(client, path: str, status: int = 200) -> str:  # type: ignore[no-untyped-def]
    joiner = "&" if "?" in path else "?"
    response = await client.get(f"{path}{joiner}lang=fr")
    html = await response.text()
    assert response.status == status, (path, html[:500])
    assert '<html lang="fr">' in html
    return html


async def test_french_pages_keep_each_colon_and_guillemet_with_its_word(
    whole_portal: dict[str, Any],
) -> None:
    family_id = whole_portal["family"]["id"]
    person_id = whole_portal["person"]["id"]
    pages = {
        "anonymous": [("/connexion", 200), ("/documentation", 200), ("/nulle-part", 404)],
        "parent": [
            ("/", 200),
            ("/famille", 200),
            ("/famille/modifier", 200),
            (f"/famille/personnes/{person_id}", 200),
            ("/mot-de-passe", 200),
            ("/securite", 200),
            ("/factures", 200),
            ("/contact", 200),
            ("/documents", 200),
            ("/mes-donnees", 200),
        ],
        "agent": [
            ("/agents/demandes", 200),
            (f"/agents/familles/{family_id}", 200),
            ("/agents/comptes", 200),
            ("/agents/facturation", 200),
            (f"/agents/factures?famille={family_id}", 200),
            ("/agents/actualites", 200),
            ("/agents/types-documents", 200),
            ("/agents/familles?q=TEST", 200),
        ],
    }
    left: dict[str, list[str]] = {}
    for visitor, paths in pages.items():
        for path, status in paths:
            html = await _french(whole_portal[visitor], path, status)
            if found := breakable_spaces(html):
                left[path] = found
    assert not left, "\n".join(f"{path}: {places}" for path, places in left.items())


async def test_a_form_sent_back_with_errors_lists_them_without_a_loose_colon(
    whole_portal: dict[str, Any],
) -> None:
    family = whole_portal["family"]
    parent = whole_portal["parent"]
    await parent.get("/famille?lang=fr")
    answered = await post_form(
        parent, "/famille/modifier", "/famille/modifier",
        {"version": str(family["version"]), "famille": family["id"], "address": "1 Main Street",
         "postal_code": "642", "city": "Hasparren", "email": family["email"], "phone": "12"},
    )  # fmt: skip
    html = await answered.text()
    assert answered.status == 422, html[:500]
    assert f"Code postal{NO_BREAK_SPACE}:" in html  # the error list: « {label} : {error} »
    assert breakable_spaces(html) == []


async def test_scripts_times_links_and_form_values_are_left_as_they_were(
    whole_portal: dict[str, Any],
) -> None:
    parent, agent = whole_portal["parent"], whole_portal["agent"]
    password = await _french(parent, "/mot-de-passe")
    # A script's `a ? b : c` is code, not French: spaced as its author wrote it.
    assert 'met ? "✓" : "✗"' in script_of(password, "rule__state")

    accounts = await _french(agent, "/agents/comptes")
    assert re.search(r"\b\d{2}:\d{2}\b", accounts)  # a last sign-in's time, colon and all
    dashboard = await _french(parent, "/")
    assert f'href="/mes-donnees?famille={whole_portal["family"]["id"]}"' in dashboard
    assert f"Mes données{NO_BREAK_SPACE}: télécharger" in dashboard

    # Staff type a title with « : » and « ! »: the page shows it typeset, the form that
    # edits it and the API keep what was typed.
    title = "Fermeture : grève du 3 décembre !"
    posted = await post_form(
        agent, "/agents/actualites?lang=fr", "/agents/actualites",
        {"titre": title, "texte": "Accueil fermé « toute la journée » ?", "activite": ""},
    )  # fmt: skip
    assert posted.status in (200, 303), await posted.text()
    news = await _french(agent, "/agents/actualites")
    assert f"Fermeture{NO_BREAK_SPACE}: grève du 3 décembre{NARROW_NO_BREAK_SPACE}!" in news
    assert breakable_spaces(news) == []
    api = await agent.get("/api/notifications/news")
    assert api.content_type == "application/json"
    body = await api.text()
    assert NO_BREAK_SPACE not in body and NARROW_NO_BREAK_SPACE not in body


async def test_english_pages_are_left_as_they_were(whole_portal: dict[str, Any]) -> None:
    for visitor, path in (
        ("parent", "/"),
        ("parent", "/famille"),
        ("parent", "/mot-de-passe"),
        ("agent", "/agents/comptes"),
        ("agent", "/agents/demandes"),
    ):
        response = await whole_portal[visitor].get(f"{path}?lang=en")
        html = await response.text()
        assert '<html lang="en">' in html
        assert NARROW_NO_BREAK_SPACE not in html, path
        assert not re.search(f"{NO_BREAK_SPACE}[:;!?»]", html), path


def test_the_typography_changes_spaces_only_where_french_breaks_a_line() -> None:
    assert french_spacing("Motif : « complet » ! Encore ? Oui ; non") == (
        "Motif\u00a0: «\u202fcomplet\u202f»\u202f! Encore\u202f? Oui\u202f; non"
    )
    assert french_spacing("Lien :\nhttps://portail.example.org/a?b=1", narrow=False) == (
        "Lien\u00a0:\nhttps://portail.example.org/a?b=1"
    )
    for untouched in ("à 10:30", "https://portail.example.org/?lang=fr", '{"a": 1}', "Oui."):
        assert french_spacing(untouched) == untouched
    page = (
        '<p title="Attention : fermé" data-x="a ? b : c"><a href="/x?a=1">Voir : ici</a></p>'
        "<script>var x = y ? 1 : 2;</script><style>a :hover {}</style>"
        "<textarea>tapé : tel quel</textarea><code>clé : valeur</code><!-- note : x -->"
    )
    assert french_html(page) == (
        '<p title="Attention\u00a0: fermé" data-x="a ? b : c"><a href="/x?a=1">Voir\u00a0: ici'
        "</a></p><script>var x = y ? 1 : 2;</script><style>a :hover {}</style>"
        "<textarea>tapé : tel quel</textarea><code>clé : valeur</code><!-- note : x -->"
    )


# The link narrowed to the width of « Mes données », a few pixels more: the line must break
# there, before « : » (an ordinary space) or before « données » (a no-break one).
COLON_AND_WORD_TOPS = """(link) => {
    const text = link.firstChild;
    const rect = (start, end) => {
        const range = document.createRange();
        range.setStart(text, start);
        range.setEnd(text, end);
        return range.getBoundingClientRect();
    };
    const word = text.data.indexOf("données");
    link.style.display = "inline-block";
    link.style.width = `${rect(0, word + 7).width + 4}px`;
    const colon = text.data.indexOf(":");
    return [rect(word + 6, word + 7).top, rect(colon, colon + 1).top];
}"""


@pytest.mark.browser
@requires_chromium
async def test_a_long_label_with_a_colon_keeps_it_on_its_words_line_on_a_phone(
    whole_portal: dict[str, Any],
) -> None:
    """« Mes données : télécharger toutes les données de ma famille » on a 390 px screen.
    Screenshot to look at: /tmp/french-typography-phone.png."""
    base = str(whole_portal["parent"].make_url("")).rstrip("/")
    async with chromium() as browser:
        page = await browser.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True)
        await sign_in_on_page(page, base, PARENT, PASSWORD, lang="fr")
        link = page.get_by_role("link", name=re.compile("^Mes données"))
        assert NO_BREAK_SPACE + ":" in await link.inner_text()
        await page.screenshot(path=str(SCREENSHOTS / "french-typography-phone.png"), full_page=True)
        word_top, colon_top = await link.evaluate(COLON_AND_WORD_TOPS)
        assert colon_top == word_top  # « données » went to the next line with its colon
