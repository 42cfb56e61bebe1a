"""The staff's document pages say what their dates are on a phone, in Chromium, through the real
gateway, families and documents services.

Found trying the portal as a new agent on a phone: the tables of « Documents à valider » and
« Documentation structure — publication » hide their column headings there, and left a bare
« 29/11/2026 » (received on?) and « du 06/11/2026 » (from what?) under each document.
"""

from __future__ import annotations

from typing import Any

import pytest

from services.kit.testing import TestSigner
from tests.browser import PHONE, SCREENSHOTS, chromium, requires_chromium, sign_in_on_page
from tests.gateway.fakes import PASSWORD
from tests.services.documents import files
from tests.services.documents.api import parent, staff, upload
from tests.services.documents.conftest import make_documents, members  # noqa: F401 (fixtures)
from tests.services.documents.portal import portal as documents_portal

pytestmark = [pytest.mark.browser, requires_chromium]

AGENT = "agent@example.org"


def before(page: Any, selector: str) -> Any:
    """The text the style sheet puts before the first element matching `selector` (None: no
    such element)."""
    return page.evaluate(
        """s => { const cell = document.querySelector(s);
                  return cell && getComputedStyle(cell, '::before').content; }""",
        selector,
    )


async def test_received_and_published_dates_are_labelled_on_a_phone(
    service_client: Any,
    make_documents: Any,  # noqa: F811
    gateway: Any,
    upstream: Any,
    signer: TestSigner,
) -> None:
    client, documents, family_id, child_id, type_id = await documents_portal(
        service_client, make_documents, gateway, upstream, signer
    )
    sent = await upload(
        documents, parent(signer, family_id), family_id, type_id,
        [("vaccins.pdf", files.pdf())], person_id=child_id,
    )  # fmt: skip
    assert sent.status == 201, await sent.text()
    published = await documents.post(
        "/org-documents", json={"title": "Règlement", "category": "Règlement"},
        headers=staff(signer),
    )  # fmt: skip
    assert published.status == 201, await published.text()
    base = str(client.make_url("")).rstrip("/")

    async with chromium() as browser:
        page = await browser.new_page(viewport=PHONE)
        await sign_in_on_page(page, base, AGENT, PASSWORD)
        labels = {}
        for lang in ("fr", "en"):
            for path in ("/agents/documents", "/agents/documentation"):
                await page.goto(f"{base}{path}?lang={lang}")
                labels[lang, path] = await before(page, ".doc-table td[data-label]")
                name = path.rsplit("/", 1)[-1]
                await page.screenshot(
                    path=str(SCREENSHOTS / f"document-dates-{name}-{lang}.png"), full_page=True
                )

    assert labels["fr", "/agents/documents"] == '"Reçu le : "', labels
    assert labels["fr", "/agents/documentation"] == '"Publication : "', labels
    assert labels["en", "/agents/documents"] == '"Received on: "', labels
    assert labels["en", "/agents/documentation"] == '"Publication: "', labels
