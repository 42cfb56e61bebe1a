"""What a visitor types, shown back on a French page (f8d02d7's typography runs over the whole
page): form values re-shown after a 422 come back byte for byte, and hostile text (« < », quotes,
« : », « » », attribute-looking text) stays escaped text — the page's markup unchanged,
nothing typeset inside a value, a text area or a data-* attribute. Real gateway and services."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from markupsafe import escape

from services.kit.typography import french_html
from tests.services.families.pages import post_form

from . import test_i18n_coverage as coverage

families_database = coverage.families_database
portal = coverage.portal
whole_portal = coverage.whole_portal

TYPED = {
    "address": 'Bonjour : test ? « a » ; b ! title="x : y" <b>c</b>',
    "city": "L'Isle : « x »' data-x=\"1 : 2\" onmouseover=alert(1) ?",
}


class Fields(HTMLParser):
    """Each input's name → value, as a browser would send it back; and every tag name."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self.tags: list[str] = []
        self.attributes: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.update(name for name, _ in attrs)
        named = dict(attrs)
        if tag == "input" and named.get("name"):
            self.values[str(named["name"])] = named.get("value") or ""


async def test_typed_values_come_back_byte_for_byte_after_a_422(
    whole_portal: dict[str, Any],
) -> None:
    family, parent = whole_portal["family"], whole_portal["parent"]
    await parent.get("/famille?lang=fr")
    answered = await post_form(
        parent, "/famille/modifier", "/famille/modifier",
        {"version": str(family["version"]), "famille": family["id"], **TYPED,
         "postal_code": "642", "email": family["email"], "phone": "12"},
    )  # fmt: skip
    page = await answered.text()
    assert answered.status == 422, page[:500]
    fields = Fields()
    fields.feed(page)
    for name, typed in TYPED.items():
        assert fields.values[name] == typed, (name, fields.values[name])
        # Escaped in the page, spaces untouched: the bytes the template wrote.
        assert f'value="{escape(typed)}"' in page
    # The hostile text made no tag nor attribute of its own.
    assert "b" not in fields.tags
    assert not {"onmouseover", "data-x", "x"} & fields.attributes


def test_hostile_text_cannot_open_a_text_attribute_or_end_a_text_area() -> None:
    """The escaped forms of what a visitor can type, as templates write them: nothing in a
    value, data-* or text area is changed, whatever the text before it looks like."""
    typed = str(escape('x title="a : b" </textarea> <!-- « c » : ?'))
    page = (
        f'<p data-name="{typed}" data-y="{typed}">ok</p>'
        f'<input title="t" value="{typed}"><input value="{typed}" title="{typed}">'
        f"<textarea>{typed} : </textarea><p>{typed}</p>"
    )
    spaced = french_html(page)
    for kept in (
        f'data-name="{typed}" data-y="{typed}"',
        f'<input title="t" value="{typed}">',
        f'<input value="{typed}" title=',
        f"<textarea>{typed} : </textarea>",
    ):
        assert kept in spaced, kept
    assert spaced.count("<") == page.count("<") and spaced.count('"') == page.count('"')
