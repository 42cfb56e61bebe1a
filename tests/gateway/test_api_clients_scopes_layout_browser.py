"""« Clients API » (administrators): each service's « lecture / écriture » boxes read as one
line, on a 390-px phone and on a desktop, in a real (headless) Chromium through the real
gateway and the real auth service.

On a phone the service's name, « lecture » and « écriture » shared one wrapping line: a long
name (« Inscriptions et réservations : ») left « écriture » alone on the next line, under the
name, where it read as a choice of its own (or of the next service). Now the name has its
line and the boxes theirs, in columns on a desktop. Screenshots:
/tmp/api-clients-scopes-layout-{phone,desktop}.png.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import PHONE, SCREENSHOTS, accessibility_violations, chromium, requires_chromium
from tests.services.auth.conftest import auth_client  # noqa: F401 (its fixture)
from tests.services.auth.test_api_client_pages import signed_in_staff
from tests.services.auth.test_pages import portal

pytestmark = [pytest.mark.browser, requires_chromium]

DESKTOP = {"width": 1280, "height": 900}

# Per service row: its name's box, and each choice's box and its checkbox's.
ROWS = """() => [...document.querySelectorAll('.scope-row')].map(row => ({
  name: row.querySelector('span').getBoundingClientRect().toJSON(),
  text: row.querySelector('span').textContent.trim(),
  choices: [...row.querySelectorAll('.scope-choice')].map(label => ({
    box: label.getBoundingClientRect().toJSON(),
    check: label.querySelector('input').getBoundingClientRect().toJSON(),
    text: label.textContent.trim(),
  })),
}))"""


def layout_faults(rows: list[dict[str, Any]]) -> list[str]:
    """What does not read clearly: a service's boxes on two lines, a box apart from its word,
    a box beside another service's name."""
    faults = []
    for row in rows:
        choices = row["choices"]
        tops = {round(c["box"]["top"]) for c in choices}
        if len(tops) > 1:
            faults.append(
                f"{row['text']} boxes on {len(tops)} lines: {[c['text'] for c in choices]}"
            )
        for choice in choices:
            box, check = choice["box"], choice["check"]
            if box["height"] > 2 * check["height"] + 24:  # the word went under its box
                faults.append(f"{row['text']} « {choice['text']} » on two lines")
        if choices and min(c["box"]["left"] for c in choices) < row["name"]["left"]:
            faults.append(f"{row['text']} a box left of its service's name")
    return faults


@pytest.mark.parametrize(("name", "viewport"), [("phone", PHONE), ("desktop", DESKTOP)])
async def test_each_services_boxes_read_as_one_line(
    gateway: Any,
    auth_client: Any,  # noqa: F811
    signer: Any,
    name: str,
    viewport: dict[str, int],
) -> None:
    client, auth = await portal(gateway, auth_client)
    await signed_in_staff(client, auth, signer, "administrator")
    base = str(client.make_url("")).rstrip("/")
    cookies = [{"name": c.key, "value": c.value, "url": base} for c in client.session.cookie_jar]
    async with chromium() as browser:
        context = await browser.new_context(
            viewport=viewport, locale="fr-FR", is_mobile=name == "phone"
        )
        await context.add_cookies(cookies)
        page = await context.new_page()
        await page.goto(f"{base}/agents/clients-api")
        await page.locator("input[value='bookings:write']").check()
        rows = await page.evaluate(ROWS)
        await page.locator("fieldset").screenshot(
            path=str(SCREENSHOTS / f"api-clients-scopes-layout-{name}-rights.png")
        )
        await page.screenshot(
            path=str(SCREENSHOTS / f"api-clients-scopes-layout-{name}.png"), full_page=True
        )
        assert len(rows) == 5 and all(row["choices"] for row in rows), rows
        assert layout_faults(rows) == []
        # The two boxes of a service in the same place on every row: read as columns.
        lefts = {round(row["choices"][0]["box"]["left"]) for row in rows}
        assert len(lefts) == 1, lefts
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], width
        assert await accessibility_violations(page) == []
        await context.close()
