"""« Mes courriels » laid out by the real style sheets in headless Chromium, on a phone.

Found trying the portal as a parent: « Enregistrer » touched the frame of the choices above it,
the frame was the browser's grey groove and every choice was bold like a field's label.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import PHONE, chromium, requires_chromium

pytestmark = [pytest.mark.browser, requires_chromium]

STATIC = Path(__file__).resolve().parents[2] / "gateway" / "static"

# The form as `notifications/preferences.html` writes it.
FORM = """
<form method="post" action="/courriels" class="form card">
  <fieldset id="choices">
    <legend>Je souhaite recevoir</legend>
    <div class="field field--check">
      <input type="checkbox" id="cat-reminders" name="reminders" checked>
      <label id="choice" for="cat-reminders">Rappels (documents bientôt expirés)</label>
    </div>
  </fieldset>
  <button id="save" type="submit" class="button">Enregistrer</button>
</form>
"""


async def test_the_email_choices_are_framed_apart_from_the_save_button_on_a_phone() -> None:
    styles = "\n".join(
        (STATIC / name).read_text(encoding="utf-8") for name in ("portail.css", "notifications.css")
    )
    async with chromium() as browser:
        page = await browser.new_page(viewport=PHONE)
        await page.set_content(f'<!doctype html><html lang="fr"><style>{styles}</style>{FORM}')
        measured = await page.evaluate(
            """() => {
                 const box = id => document.getElementById(id).getBoundingClientRect();
                 const style = id => getComputedStyle(document.getElementById(id));
                 return {
                   gap: box('save').top - box('choices').bottom,
                   border: style('choices').borderTopStyle,
                   choiceWeight: style('choice').fontWeight,
                 };
               }"""
        )

    assert measured["gap"] >= 8, measured  # was 0: the button sat on the frame
    assert measured["border"] == "solid", measured  # not the browser's groove
    assert measured["choiceWeight"] == "400", measured  # a choice, not a field's label
