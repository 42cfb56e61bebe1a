"""In Chromium: an agent's queue page is stale, the family has sent a new copy meanwhile;
accepting the old line is refused in words the agent understands, and the fresh queue shows
the new copy alone (phone and desktop)."""

from __future__ import annotations

import pytest

from services.kit.testing import TestSigner
from tests.browser import PHONE, SCREENSHOTS, chromium, requires_chromium, sign_in_on_page
from tests.gateway.fakes import PASSWORD

from . import files
from .api import parent, upload
from .portal import portal

pytestmark = [
    pytest.mark.browser,
    requires_chromium,
]
DESKTOP = {"width": 1280, "height": 800}


@pytest.mark.parametrize(("size", "viewport"), [("phone", PHONE), ("desktop", DESKTOP)])
async def test_a_stale_queue_line_cannot_be_accepted_once_the_family_sent_a_new_copy(
    service_client, make_documents, gateway, upstream, signer: TestSigner, size, viewport
) -> None:
    client, documents, family_id, child_id, type_id = await portal(
        service_client, make_documents, gateway, upstream, signer
    )
    base = str(client.make_url("")).rstrip("/")

    async def send(name: str) -> None:
        headers = parent(signer, family_id)
        sent = await upload(documents, headers, family_id, type_id, [(name, files.pdf())], child_id)
        assert sent.status == 201, await sent.text()

    await send("vaccins-flou.pdf")
    async with chromium() as browser:
        staff = await browser.new_page(viewport=viewport, is_mobile=size == "phone")
        await sign_in_on_page(staff, base, "agent@example.org", PASSWORD)
        await staff.goto(f"{base}/agents/documents")
        stale = staff.locator('[data-document="Photocopie des vaccinations"]')
        assert "vaccins-flou.pdf" in await stale.inner_text()
        await send("vaccins-net.pdf")  # while the agent looks at the page

        await stale.get_by_role("button", name="Accepter").click()
        alert = staff.get_by_role("alert")
        await alert.wait_for()
        assert "nouvelle version de ce document" in await alert.inner_text()
        await staff.screenshot(path=str(SCREENSHOTS / f"documents-replaced-{size}.png"))
        rows = staff.locator('[data-document="Photocopie des vaccinations"]')
        assert await rows.count() == 1
        assert "vaccins-net.pdf" in await rows.inner_text()
        assert "vaccins-flou.pdf" not in await staff.locator("main").inner_text()
        width = await staff.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"]
