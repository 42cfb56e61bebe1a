"""In a real (headless) Chromium on a phone: files over the upload limit are refused in the
page's language. The gateway refuses such a body itself (413) with an English detail, which
« Mes documents » used to show to a French parent as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.kit.testing import TestSigner
from tests.browser import PHONE, SCREENSHOTS, chromium, requires_chromium, sign_in_on_page
from tests.gateway.fakes import PASSWORD

from .portal import portal

pytestmark = [
    pytest.mark.browser,
    requires_chromium,
]

MIB = 1024 * 1024
FRENCH = "Les fichiers choisis dépassent la taille autorisée (10 Mo au total)."
ENGLISH = "The files chosen are larger than allowed (10 MB in all)."


def _pdf_of(path: Path, size: int) -> Path:
    """A file named .pdf of `size` bytes (what it holds does not matter: it is refused by
    its size before anything reads it)."""
    path.write_bytes(b"%PDF-1.4\n" + b"0" * (size - 9))
    return path


@pytest.mark.parametrize(("lang", "expected"), [(None, FRENCH), ("en", ENGLISH)], ids=["fr", "en"])
async def test_files_over_the_limit_are_refused_in_the_pages_language(
    service_client,
    make_documents,
    gateway,
    upstream,
    signer: TestSigner,
    tmp_path: Path,
    lang: str | None,
    expected: str,
) -> None:
    client, _, _, _, _ = await portal(service_client, make_documents, gateway, upstream, signer)
    base = str(client.make_url("")).rstrip("/")
    # 11 MB: over the 10 MB limit by its size alone.
    too_big = _pdf_of(tmp_path / "scan-trop-lourd.pdf", 11 * MIB)
    # Just under 10 MB itself, over it once wrapped in the form's multipart body: the
    # gateway's own 413 answers it.
    at_the_edge = _pdf_of(tmp_path / "scan-limite.pdf", 10 * MIB - 16)
    sent: list[str] = []

    async with chromium() as browser:
        parent = await browser.new_page(viewport=PHONE, is_mobile=True)
        parent.on("request", lambda r: sent.append(r.url) if "/api/documents/" in r.url else None)
        await sign_in_on_page(parent, base, "famille.test@example.org", PASSWORD, lang=lang)
        await parent.goto(f"{base}/documents" + (f"?lang={lang}" if lang else ""))
        await parent.locator('a:has-text("Enfant TEST")').click()
        await parent.locator('[data-document="Photocopie des vaccinations"]').click()
        alert = parent.locator("[data-upload-status]")
        chooser = parent.locator("#fichiers")
        send = parent.locator("form.upload button[type=submit]")

        await chooser.set_input_files(str(too_big))
        await send.click()
        await alert.filter(has_text=expected).wait_for(timeout=5000)
        # Refused before sending: a parent on a phone does not send 11 MB to learn it.
        assert sent == []
        await parent.screenshot(path=str(SCREENSHOTS / f"documents-too-large-{lang or 'fr'}.png"))

        await chooser.set_input_files(str(at_the_edge))
        await send.click()
        await parent.wait_for_function(
            "() => document.querySelector('[data-upload-status]').textContent"
            ".indexOf('…') === -1 && document.querySelector('[data-upload-status]')"
            ".textContent.length > 0"
        )
        said = await alert.inner_text()
        assert sent, "the file under the limit is sent"
        assert expected in said, said
        assert "request body" not in said
