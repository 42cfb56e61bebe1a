"""« Mes documents »: each state has its own mark, named in words, not told by colour alone."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import update

from services.documents.models import Submission
from services.documents.service import today_in_paris
from services.kit.keys import DATABASE
from services.kit.testing import TestSigner
from tests.browser import PHONE, SCREENSHOTS, chromium, requires_chromium, sign_in_on_page
from tests.gateway.fakes import PASSWORD

from . import files
from .api import create_type, staff, upload
from .api import parent as parent_headers
from .portal import portal
from .portal import sign_in as _sign_in

# The words each mark is named by (its <title>), by the state the list shows.
EXPECTED = {
    "Attestation manquante": "Manquant",
    "Attestation en attente": "En attente de validation",
    "Attestation validée": "Validé",
    "Attestation refusée": "Refusé",
    "Attestation expirée": "Expiré",
}


async def family_with_every_state(service_client, make_documents, gateway, upstream, signer):  # type: ignore[no-untyped-def]
    """The portal, with one family document in each state a parent can meet."""
    client, documents, family_id, _, _ = await portal(
        service_client, make_documents, gateway, upstream, signer
    )
    types = {
        name: (await create_type(documents, signer, name=name, concerns="family"))["id"]
        for name in EXPECTED
    }
    sent = {}
    for name in list(EXPECTED)[1:]:
        answer = await upload(
            documents, parent_headers(signer, family_id), family_id, types[name],
            [("piece.pdf", files.pdf())],
        )  # fmt: skip
        assert answer.status == 201, await answer.text()
        sent[name] = (await answer.json())["id"]
    decisions = {
        "Attestation validée": ("accept", {}),
        "Attestation refusée": ("refuse", {"reason": "Document illisible."}),
        "Attestation expirée": ("accept", {}),
    }
    for name, (verb, body) in decisions.items():
        decided = await documents.post(
            f"/submissions/{sent[name]}/{verb}", json=body, headers=staff(signer)
        )
        assert decided.status == 200, await decided.text()
    # A validity cannot be accepted already over: time passes instead, a year at once.
    async with documents.app[DATABASE].transaction() as session:
        await session.execute(
            update(Submission)
            .where(Submission.id == sent["Attestation expirée"])
            .values(valid_until=today_in_paris() - timedelta(days=1))
        )
    return client


def marks_of(page: str) -> dict[str, tuple[str, str]]:
    """Document name → (the mark's name, the mark's drawing) as listed on the page."""
    found = re.findall(
        r'data-document="([^"]+)">\s*<svg [^>]*data-state-icon="[^"]+"[^>]*>'
        r"<title>([^<]+)</title>(.*?)</svg>",
        page,
        re.S,
    )
    return {name: (title, " ".join(drawing.split())) for name, title, drawing in found}


async def test_each_state_has_its_own_mark_and_its_words(
    service_client, make_documents, gateway, upstream, signer: TestSigner
) -> None:
    client = await family_with_every_state(
        service_client, make_documents, gateway, upstream, signer
    )
    await _sign_in(client, "famille.test@example.org")
    page = unescape(await (await client.get("/documents")).text())

    marks = marks_of(page)
    assert {name: title for name, (title, _) in marks.items() if name in EXPECTED} == EXPECTED
    drawings = [marks[name][1] for name in EXPECTED]
    assert len(set(drawings)) == len(drawings), "two states share a mark"
    for label in ("Aucun document transmis", "En attente de validation", "Accepté", "Refusé",
                  "Expiré"):  # fmt: skip
        assert label in page  # the full state in text beside the mark

    english = unescape(await (await client.get("/documents?lang=en")).text())
    english_titles = {t for t, _ in marks_of(english).values()}
    assert {"Missing", "Waiting for validation", "Validated", "Refused", "Expired"} <= (
        english_titles
    )


@pytest.mark.browser
@requires_chromium
async def test_the_marks_show_on_a_phone_without_csp_violation(
    service_client, make_documents, gateway, upstream, signer: TestSigner
) -> None:
    client = await family_with_every_state(
        service_client, make_documents, gateway, upstream, signer
    )
    base = str(client.make_url("")).rstrip("/")
    console: list[str] = []
    async with chromium() as browser:
        page = await browser.new_page(viewport=PHONE, is_mobile=True)
        page.on("console", lambda m: console.append(m.text))
        await sign_in_on_page(page, base, "famille.test@example.org", PASSWORD)
        await page.goto(f"{base}/documents")
        for name, words in EXPECTED.items():
            item = page.locator(f'[data-document="{name}"]')
            assert await item.get_by_role("img", name=words, exact=True).is_visible()
        await page.screenshot(path=str(SCREENSHOTS / "documents-state-marks.png"))
    assert [c for c in console if "Content Security Policy" in c] == []
