"""An upload refused by the real documents service, on an English page: the service's fixed
sentences by the catalog, its sentences with a file name by the problem's type; French pages
keep the service's own sentence."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from aiohttp import FormData

from tests.browser import SCREENSHOTS, chromium, requires_chromium, sign_in_on_page
from tests.gateway.conftest import same_origin
from tests.gateway.fakes import PASSWORD

from . import files
from .portal import portal as _portal
from .portal import sign_in as _sign_in


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _form(
    csrf: str, family_id: str, type_id: str, child_id: str, filename: str, content: bytes = b""
) -> FormData:
    form = FormData()
    for name, value in (("csrf_token", csrf), ("famille", family_id), ("type", type_id)):
        form.add_field(name, value)
    form.add_field("personne", child_id)
    form.add_field(
        "file", content or files.pdf(), filename=filename, content_type="application/pdf"
    )
    return form


async def test_a_refused_upload_reads_in_english_on_english_pages(
    service_client, make_documents, gateway, upstream, signer
) -> None:
    client, _, family_id, child_id, type_id = await _portal(
        service_client, make_documents, gateway, upstream, signer
    )
    csrf = await _sign_in(client, "famille.test@example.org")

    french = await client.post(
        "/documents/envoyer",
        data=_form(csrf, family_id, type_id, child_id, "x.pdf.exe"),
        headers=same_origin(client),
    )
    assert (await client.get("/documents?lang=en")).status == 200
    named = await client.post(
        "/documents/envoyer",
        data=_form(csrf, family_id, type_id, child_id, "x.pdf.exe"),
        headers=same_origin(client),
    )
    fixed = await client.post(
        "/documents/envoyer",
        data=_form(csrf, family_id, type_id, child_id, ".cache.pdf"),
        headers=same_origin(client),
    )

    assert french.status == named.status == fixed.status == 422
    assert "extension est .exe" in _text(await french.text())
    named_text = _text(await named.text())
    # The file's name and its found format, as the French sentence says them.
    assert "The file “x.pdf.exe” is a PDF but its extension is .exe: rename it to .pdf." in (
        named_text
    )
    assert "extension est" not in named_text
    fixed_text = _text(await fixed.text())
    assert "The file's name cannot start with a dot." in fixed_text
    assert "ne peut pas commencer" not in fixed_text


@pytest.mark.browser
@requires_chromium
async def test_the_upload_script_says_a_refusal_in_english_on_english_pages(
    service_client, make_documents, gateway, upstream, signer, tmp_path: Path
) -> None:
    client, _, _, child_id, type_id = await _portal(
        service_client, make_documents, gateway, upstream, signer
    )
    base = str(client.make_url("")).rstrip("/")
    hostile = tmp_path / "vaccins.pdf"
    hostile.write_bytes(files.HTML)
    async with chromium() as browser:
        page = await browser.new_page(viewport={"width": 360, "height": 780}, is_mobile=True)
        await sign_in_on_page(page, base, "famille.test@example.org", PASSWORD)
        await page.goto(f"{base}/documents/piece?type={type_id}&personne={child_id}&lang=en")
        await page.locator("input[type=file]").set_input_files(str(hostile))
        await page.locator("form[data-upload] button[type=submit]").click()
        status = page.locator("[data-upload-status]")
        # The API's French sentence names the file and what it is: the script says both.
        await status.filter(has_text="The file “vaccins.pdf” is neither a PDF").wait_for()
        shown = await status.inner_text()
        width = await page.evaluate("document.documentElement.scrollWidth")
        await page.screenshot(path=str(SCREENSHOTS / "documents-refused-en.png"), full_page=True)

    assert "(content found: HTML page)" in shown and "page HTML" not in shown
    assert width <= 360


async def test_the_antivirus_refusal_reads_in_english_on_the_english_document_page(
    service_client, make_documents, gateway, upstream, signer, clamd
) -> None:
    """The documents service writes this one reason itself, in French; staff's own reasons
    stay as typed. The refusal is a real clamd's, finding the EICAR string in a sound PDF."""
    client, _, family_id, child_id, type_id = await _portal(
        service_client, make_documents, gateway, upstream, signer,
        documents_settings={"clamd_host": "127.0.0.1", "clamd_port": clamd.port},
    )  # fmt: skip
    csrf = await _sign_in(client, "famille.test@example.org")
    sent = await client.post(
        "/documents/envoyer",
        data=_form(csrf, family_id, type_id, child_id, "vaccins.pdf", files.pdf_with_eicar()),
        headers=same_origin(client),
    )
    assert sent.status < 500
    piece = f"/documents/piece?type={type_id}&personne={child_id}"

    french = _text(await (await client.get(piece + "&lang=fr")).text())
    english = _text(await (await client.get(piece + "&lang=en")).text())

    assert "L'antivirus a détecté un contenu malveillant dans ce fichier" in french
    assert (
        "The antivirus found malicious content in this file: it has been deleted. "
        "Send another copy of the document." in english
    ), english
    reason = english.split("Reason for refusal:", 1)[1].split("Files to send", 1)[0]
    assert not re.search(r"(?i)antivirus a|détecté|malveillant|envoyez", reason), reason
