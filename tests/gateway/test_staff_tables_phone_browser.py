"""« Comptes » and « Clients API » on a phone: each row a block of labelled lines, nothing
scrolled sideways — their six and five columns scrolled inside their box, which hid the
actions (« Confirmer la désactivation » cut mid-word). A desktop keeps the table. Real
gateway, real auth service, headless Chromium; screenshots /tmp/staff-tables-*.png."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import PHONE, SCREENSHOTS, chromium, requires_chromium
from tests.services.auth.conftest import auth_client, staff_headers  # noqa: F401 (fixture)
from tests.services.auth.test_api_client_pages import signed_in_staff
from tests.services.auth.test_pages import portal

pytestmark = [pytest.mark.browser, requires_chromium]

DESKTOP = {"width": 1280, "height": 900}

# The table's box: how much wider its content is than the box, and whether its head shows.
SHAPE = """() => {
  const box = document.querySelector('.table-scroll');
  const head = box.querySelector('thead');
  return {overflow: box.scrollWidth - box.clientWidth, head: getComputedStyle(head).display};
}"""


@pytest.mark.parametrize("path", ["/agents/comptes", "/agents/clients-api"])
async def test_a_staff_table_is_blocks_on_a_phone_and_a_table_on_a_desktop(
    gateway: Any,
    auth_client: Any,  # noqa: F811
    signer: Any,
    path: str,
) -> None:
    client, auth = await portal(gateway, auth_client)
    await signed_in_staff(client, auth, signer, "administrator")
    made = await auth.post(
        "/api-clients",
        json={"name": "Logiciel de la cantine", "scopes": ["bookings:read"]},
        headers=staff_headers(signer, "administrator"),
    )
    assert made.status == 201, await made.text()
    base = str(client.make_url("")).rstrip("/")
    cookies = [{"name": c.key, "value": c.value, "url": base} for c in client.session.cookie_jar]
    name = path.rsplit("/", 1)[1]
    async with chromium() as browser:
        for size, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
            context = await browser.new_context(viewport=viewport, is_mobile=size == "phone")
            await context.add_cookies(cookies)
            page = await context.new_page()
            await page.goto(f"{base}{path}")
            shape = await page.evaluate(SHAPE)
            await page.screenshot(
                path=str(SCREENSHOTS / f"staff-tables-{name}-{size}.png"), full_page=True
            )
            if size == "phone":
                assert shape["overflow"] <= 1, f"{path} scrolls {shape['overflow']} px sideways"
                assert shape["head"] == "none"
                label = await page.locator("tbody td").first.evaluate(
                    "td => getComputedStyle(td, '::before').content"
                )
                assert label.strip('"').replace("\xa0", " ").endswith(" : "), label
            else:
                assert shape["head"] != "none"
            await context.close()
