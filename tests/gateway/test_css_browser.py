"""The hand-written style sheets, measured in a real (headless) Chromium.

Each check lays out the markup the templates write with the sheets of `gateway/static/`,
without services: what is measured is the cascade, not the data.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import PHONE, chromium, requires_chromium

pytestmark = [
    pytest.mark.browser,
    requires_chromium,
]

STATIC = Path(__file__).resolve().parents[2] / "gateway" / "static"


def _page(lang: str, sheets: tuple[str, ...], body: str) -> str:
    styles = "\n".join((STATIC / name).read_text(encoding="utf-8") for name in sheets)
    head = f'<!doctype html><html lang="{lang}"><head><style>{styles}</style></head>'
    return f"{head}<body>{body}</body></html>"


async def _with_page(html: str, check, viewport=None):
    async with chromium() as browser:
        page = await browser.new_page(viewport=viewport or {"width": 1280, "height": 900})
        await page.set_content(html)
        return await check(page)


async def test_a_message_box_looks_like_the_other_fields() -> None:
    # « Contacter la structure », a staff reply: the textarea had the browser's thin grey
    # border and font beside the inputs' 2 px border.
    html = _page(
        "fr",
        ("portail.css", "notifications.css"),
        '<div class="field"><label for="o">Objet</label><input id="o"></div>'
        '<div class="field"><label for="c">Contenu</label><textarea id="c"></textarea></div>',
    )

    async def styles(page):
        return await page.evaluate(
            """() => ['o', 'c'].map(id => {
                 const s = getComputedStyle(document.getElementById(id));
                 return [s.borderTopWidth, s.borderTopColor, s.fontFamily, s.fontSize];
               })"""
        )

    field, box = await _with_page(html, styles)
    assert box == field


@pytest.mark.parametrize("sheet", ["billing.css", "bookings.css"])
async def test_a_filter_button_sits_on_the_line_of_its_fields(sheet: str) -> None:
    # « Mes factures », « Mes inscriptions », the staff queues: « Filtrer » hung 1 rem below
    # the select beside it (the field's bottom margin).
    html = _page(
        "fr",
        ("portail.css", sheet),
        '<form class="filters"><div class="field"><label for="a">Année</label>'
        '<select id="a"><option>Toutes</option></select></div>'
        '<button id="b" class="button button--secondary">Filtrer</button></form>',
    )

    async def bottoms(page):
        return await page.evaluate(
            "() => ['a', 'b'].map(id => document.getElementById(id).getBoundingClientRect().bottom)"
        )

    select, button = await _with_page(html, bottoms)
    assert abs(select - button) <= 1


@pytest.mark.parametrize(
    ("sheet", "table"),
    [("notifications.css", "history"), ("bookings.css", "registrations"), ("families.css", "diff")],
)
@pytest.mark.parametrize(("lang", "label"), [("fr", "Action : "), ("en", "Action: ")])
async def test_a_phone_writes_a_cells_label_with_the_colon_of_the_page_language(
    sheet: str, table: str, lang: str, label: str
) -> None:
    # On a phone each cell is preceded by its column's name: « Jour et heure : » in French,
    # « Day and time: » in English (it read « Day and time : »).
    html = _page(
        lang,
        ("portail.css", sheet),
        f'<table class="{table}"><tbody><tr><td id="c" data-label="Action">Sign in</td></tr>'
        "</tbody></table>",
    )

    async def content(page):
        return await page.evaluate(
            "() => getComputedStyle(document.getElementById('c'), '::before').content"
        )

    assert await _with_page(html, content, PHONE) == f'"{label}"'


async def test_buttons_side_by_side_keep_apart_when_a_phone_wraps_them() -> None:
    # « Ce lien a déjà été utilisé »: « Se connecter » and « Mot de passe oublié » touched once
    # wrapped on a phone (two buttons in a paragraph, only a space between them).
    html = _page(
        "fr",
        ("portail.css",),
        '<div class="card"><p class="form__actions"><a id="a" class="button" href="#">Se '
        'connecter</a> <a id="b" class="button button--secondary" href="#">Mot de passe '
        "oublié</a></p></div>",
    )

    async def boxes(page):
        return await page.evaluate(
            """() => ['a', 'b'].map(id => {
                 const r = document.getElementById(id).getBoundingClientRect();
                 return [r.top, r.bottom];
               })"""
        )

    (_, a_bottom), (b_top, _) = await _with_page(html, boxes, {"width": 360, "height": 800})
    assert b_top >= a_bottom + 8  # wrapped, one under the other, apart


def _staff_roster_filters() -> str:
    """The filter form of « Réservations — listes et présences », from its template."""
    import re

    import jinja2

    source = (STATIC.parent / "templates" / "bookings" / "agents_reservations.html").read_text()
    form = re.search(r'<form method="get" action="/agents/reservations".*?</form>', source, re.S)
    assert form
    return (
        jinja2.Environment(autoescape=True)
        .from_string(form.group(0))
        .render(
            _=lambda text, **values: text.format(**values),
            activities=[{"id": "a1", "name": "ALSH Josta Leku"}],
            activity_id="a1",
            day="2026-11-30",
            days=1,
        )
    )


async def test_a_staff_filter_keeps_each_label_on_the_line_of_its_field_on_a_phone() -> None:
    # « Réservations — listes et présences » on a phone: « Jour » ended a line and its date
    # began the next, so the label read as belonging to the activity's select.
    html = _page("fr", ("portail.css", "reservations.css"), _staff_roster_filters())

    async def middles(page):
        return await page.evaluate(
            """() => ['label[for=jour]', '#jour', 'label[for=duree]', '#duree'].map(s => {
                 const r = document.querySelector(s).getBoundingClientRect();
                 return (r.top + r.bottom) / 2;
               })"""
        )

    day_label, day, view_label, view = await _with_page(html, middles, PHONE)
    assert abs(day_label - day) <= 2 and abs(view_label - view) <= 2


async def test_a_table_without_a_sheet_of_its_own_has_ruled_padded_left_aligned_cells() -> None:
    # « Comptes des familles et des agents »: centred headers and cells with no space between
    # them (« Actif » ran into the family's name).
    html = _page(
        "fr",
        ("portail.css",),
        '<div class="card table-scroll"><table><caption>Comptes</caption><thead><tr>'
        '<th id="h" scope="col">État</th><th scope="col">Familles</th></tr></thead><tbody><tr>'
        '<td id="c">Actif</td><td>TEST</td></tr></tbody></table></div>',
    )

    async def styles(page):
        return await page.evaluate(
            """() => ['h', 'c'].map(id => {
                 const s = getComputedStyle(document.getElementById(id));
                 return [s.textAlign, parseFloat(s.paddingLeft), s.borderBottomStyle];
               })"""
        )

    for align, padding, rule in await _with_page(html, styles):
        assert align in ("left", "start") and padding >= 8 and rule == "solid"
