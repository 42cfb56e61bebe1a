"""« Mes documents » tells the family that an earlier copy was replaced by the one sent after it
(« Copie du 28/11/2026 18:40 remplacée par celle du 29/11/2026 09:12 »), in French and English,
with no link to the replaced copy's file (it is purged after a while) — through the real
gateway, families and documents services, and in Chromium on a phone and a desktop."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import pytest
from aiohttp import web
from sqlalchemy import update

from services.documents.models import Submission
from services.kit.keys import DATABASE
from services.kit.testing import TestSigner
from tests.browser import PHONE, SCREENSHOTS, chromium, requires_chromium, sign_in_on_page
from tests.gateway.fakes import PASSWORD

from . import files
from .api import parent, upload
from .portal import portal, sign_in

DESKTOP = {"width": 1280, "height": 800}
# Paris is UTC+1 in November: the family reads 18:40 and 09:12.
FIRST_SENT = datetime(2026, 11, 28, 17, 40, tzinfo=UTC)
SECOND_SENT = datetime(2026, 11, 29, 8, 12, tzinfo=UTC)
FRENCH_LINE = "Copie du 28/11/2026 18:40 remplacée par celle du 29/11/2026 09:12"
ENGLISH_LINE = (
    "Copy sent 28 November 2026 at 18:40, replaced by the one sent 29 November 2026 at 09:12"
)


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


async def _family_sends_twice(documents, signer, family_id, type_id, child_id) -> list[str]:  # type: ignore[no-untyped-def]
    """The child's vaccinations sent twice, the first still waiting: the second replaces it.
    Their times are set to known moments so that the page's words can be checked."""
    ids = []
    for name in ("vaccins-flou.pdf", "vaccins-net.pdf"):
        sent = await upload(
            documents, parent(signer, family_id), family_id, type_id, [(name, files.pdf())],
            child_id,
        )  # fmt: skip
        assert sent.status == 201, await sent.text()
        ids.append((await sent.json())["id"])
    async with documents.app[DATABASE].transaction() as session:
        for submission_id, moment in zip(ids, (FIRST_SENT, SECOND_SENT), strict=True):
            await session.execute(
                update(Submission).where(Submission.id == submission_id).values(submitted_at=moment)
            )
    return ids


async def test_the_family_reads_that_its_first_copy_was_replaced_without_a_link_to_it(
    service_client, make_documents, gateway, upstream, signer: TestSigner
) -> None:
    client, documents, family_id, child_id, type_id = await portal(
        service_client, make_documents, gateway, upstream, signer
    )
    first_id, second_id = await _family_sends_twice(documents, signer, family_id, type_id, child_id)
    await sign_in(client, "famille.test@example.org")
    member = {"famille": family_id, "personne": child_id}

    listing = await (await client.get("/documents", params=member)).text()
    assert FRENCH_LINE in text_of(listing)
    assert "En attente de validation" in text_of(listing)  # the new copy is the one that counts

    piece = await (await client.get("/documents/piece", params={**member, "type": type_id})).text()
    shown = text_of(piece)
    assert "Copies remplacées : " + FRENCH_LINE in shown
    assert "n'est pas examinée par la structure" in shown
    # The new copy's file is offered, the replaced one's never (it may be purged already).
    assert "vaccins-net.pdf" in shown and second_id in piece
    assert "vaccins-flou.pdf" not in shown and first_id not in piece

    english = await client.get("/documents/piece", params={**member, "type": type_id, "lang": "en"})
    english_text = text_of(await english.text())
    assert "Replaced copies: " + ENGLISH_LINE in english_text
    assert "remplacée" not in english_text


async def test_a_document_sent_once_mentions_no_replaced_copy(
    service_client, make_documents, gateway, upstream, signer: TestSigner
) -> None:
    client, documents, family_id, child_id, type_id = await portal(
        service_client, make_documents, gateway, upstream, signer
    )
    sent = await upload(
        documents, parent(signer, family_id), family_id, type_id, [("v.pdf", files.pdf())], child_id
    )
    assert sent.status == 201
    await sign_in(client, "famille.test@example.org")
    member = {"famille": family_id, "personne": child_id}
    listing = await (await client.get("/documents", params=member)).text()
    piece = await (await client.get("/documents/piece", params={**member, "type": type_id})).text()
    assert "remplacée" not in text_of(listing) and "Copies remplacées" not in text_of(piece)


async def test_a_documents_service_without_replaced_copies_yet_still_renders_the_pages(
    service_client, make_documents, gateway, upstream, signer: TestSigner
) -> None:
    """A gateway deployed before the documents service: the overview has no `replaced` key."""
    earlier: dict[str, object] = {}

    async def overview(request: web.Request) -> web.Response:
        return web.json_response(earlier["overview"])

    stand_in = web.Application()
    stand_in.router.add_get("/families/{family_id}/documents", overview)
    previous = await upstream(stand_in)
    client, documents, family_id, _, type_id = await portal(
        service_client, make_documents, gateway, upstream, signer, documents=previous.url
    )
    listed = await documents.get(
        f"/families/{family_id}/documents", headers=parent(signer, family_id)
    )
    answer = await listed.json()
    # The child's document, as the previous contract wrote it, listed as the family's own.
    answer["family"] = [
        {key: value for key, value in item.items() if key != "replaced"}
        for member in answer.pop("members")
        for item in member["documents"]
    ]
    earlier["overview"] = {**answer, "members": []}
    await sign_in(client, "famille.test@example.org")
    listing = await client.get("/documents", params={"famille": family_id})
    assert listing.status == 200
    assert "Photocopie des vaccinations" in text_of(await listing.text())
    piece = await client.get("/documents/piece", params={"famille": family_id, "type": type_id})
    assert piece.status == 200
    assert "Copies remplacées" not in text_of(await piece.text())


@pytest.mark.browser
@requires_chromium
@pytest.mark.parametrize(("size", "viewport"), [("phone", PHONE), ("desktop", DESKTOP)])
async def test_the_replaced_copy_line_reads_under_the_document_on_a_phone_and_a_desktop(
    service_client, make_documents, gateway, upstream, signer: TestSigner, size, viewport
) -> None:
    client, documents, family_id, child_id, type_id = await portal(
        service_client, make_documents, gateway, upstream, signer
    )
    await _family_sends_twice(documents, signer, family_id, type_id, child_id)
    base = str(client.make_url("")).rstrip("/")
    async with chromium() as browser:
        page = await browser.new_page(viewport=viewport, is_mobile=size == "phone")
        await sign_in_on_page(page, base, "famille.test@example.org", PASSWORD)
        await page.goto(f"{base}/documents?famille={family_id}&personne={child_id}")
        item = page.locator('[data-document="Photocopie des vaccinations"]')
        assert FRENCH_LINE in " ".join((await item.locator("[data-replaced]").inner_text()).split())
        assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        await page.screenshot(
            path=str(SCREENSHOTS / f"documents-replaced-list-{size}.png"), full_page=True
        )
        await item.click()
        await page.wait_for_url(re.compile(r"/documents/piece\?"))
        replaced = page.locator("ul[data-replaced]")
        assert FRENCH_LINE in " ".join((await replaced.inner_text()).split())
        assert await replaced.get_by_role("link").count() == 0
        assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        await page.screenshot(
            path=str(SCREENSHOTS / f"documents-replaced-piece-{size}.png"), full_page=True
        )
