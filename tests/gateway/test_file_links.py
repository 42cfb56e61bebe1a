"""A browser opening an API address (a link to an invoice PDF, a document, the export) that is
refused gets the French error page with the same status; API clients keep problem+json."""

from __future__ import annotations

import html
import json
import re
import uuid
from pathlib import Path

import pytest
import yaml

from tests.browser import PHONE, SCREENSHOTS, chromium, requires_chromium, sign_in_on_page

from .conftest import echo_app, same_origin
from .fakes import PASSWORD, FakeAuth

# What Chromium sends when a person follows a link or types an address.
NAVIGATION = {
    "Sec-Fetch-Mode": "navigate",
    "Sec-Fetch-Dest": "document",
    "Sec-Fetch-Site": "same-origin",
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
}
# What the portal's own scripts send with fetch().
FETCH = {"Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty", "Accept": "application/json"}
NOT_YOURS_FR = "Ce document n'existe pas ou ne vous est pas accessible."
NOT_YOURS_EN = "This document does not exist or is not available to you."
EMAIL = "parent@example.org"


async def _billing_and_a_signed_in_parent(gateway, upstream, service_client, signer):
    """The real billing service behind the gateway; a parent of family `mine` signed in."""
    billing = await service_client("billing")
    mine = str(uuid.uuid4())
    fake = FakeAuth(signer, accounts={EMAIL: [mine]})
    auth = await upstream(fake.app())
    client = await gateway(
        {"auth": auth.url, "billing": str(billing.make_url("")).rstrip("/")},
    )
    signed_in = await client.post(
        "/connexion",
        data={"email": EMAIL, "password": PASSWORD},
        headers=same_origin(client),
        allow_redirects=False,
    )
    assert signed_in.status == 303, await signed_in.text()
    return client, billing, mine


def _foreign_invoice_pdf() -> str:
    return f"/api/billing/families/{uuid.uuid4()}/invoices/{uuid.uuid4()}/pdf"


def _assert_a_page_not_json(text: str) -> None:
    assert text.lstrip().startswith("<!DOCTYPE html>") or text.lstrip().startswith("<!doctype")
    assert '"type"' not in text and "problem" not in text
    assert "No such family" not in text and "Not found" not in text
    assert 'href="/"' in text


async def test_following_a_link_to_another_familys_invoice_shows_the_french_page(
    gateway, upstream, service_client, signer
) -> None:
    client, billing, mine = await _billing_and_a_signed_in_parent(
        gateway, upstream, service_client, signer
    )
    address = _foreign_invoice_pdf()
    refused = await client.get(address, headers=NAVIGATION)
    assert refused.status in (403, 404)
    assert refused.content_type == "text/html"
    text = html.unescape(await refused.text())
    _assert_a_page_not_json(text)
    assert NOT_YOURS_FR in text
    assert f"Erreur {refused.status}" in text
    assert '<html lang="fr"' in text
    # The page's own security headers, and the request id to quote to the helpdesk.
    assert refused.headers["X-Request-ID"]
    assert refused.headers["X-Content-Type-Options"] == "nosniff"
    assert refused.headers["X-Frame-Options"] == "DENY"
    assert refused.headers["Cache-Control"] == "no-store"
    assert "style-src 'self'" in refused.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in refused.headers["Content-Security-Policy"]

    # The same address for an API client, or the portal's own fetch(): the service's
    # problem+json, byte for byte.
    direct = await billing.get(
        address.removeprefix("/api/billing"), headers=signer.headers(families=[mine])
    )
    for headers in ({"Accept": "application/json"}, FETCH):
        answer = await client.get(address, headers=headers)
        assert answer.status == refused.status == direct.status
        assert answer.content_type == "application/problem+json"
        assert await answer.read() == await direct.read()
        assert json.loads(await answer.text())["detail"] == "No such family."


async def test_in_english_the_page_is_english(gateway, upstream, service_client, signer) -> None:
    client, _, _ = await _billing_and_a_signed_in_parent(gateway, upstream, service_client, signer)
    refused = await client.get(_foreign_invoice_pdf() + "?lang=en", headers=NAVIGATION)
    assert refused.status in (403, 404)
    text = html.unescape(await refused.text())
    _assert_a_page_not_json(text)
    assert NOT_YOURS_EN in text
    assert NOT_YOURS_FR not in text
    assert '<html lang="en"' in text
    # The choice is kept: the next link opened is in English too.
    again = await client.get(_foreign_invoice_pdf(), headers=NAVIGATION)
    assert NOT_YOURS_EN in html.unescape(await again.text())


async def test_without_a_session_the_link_asks_to_sign_in(gateway, service_client, signer) -> None:
    billing = await service_client("billing")
    client = await gateway({"billing": str(billing.make_url("")).rstrip("/")})
    refused = await client.get(_foreign_invoice_pdf(), headers=NAVIGATION)
    assert refused.status == 401
    text = html.unescape(await refused.text())
    _assert_a_page_not_json(text)
    assert "Connectez-vous pour ouvrir ce document." in text
    api = await client.get(_foreign_invoice_pdf(), headers={"Accept": "application/json"})
    assert api.status == 401
    assert api.content_type == "application/problem+json"


async def test_the_gateways_own_refusals_are_pages_for_a_browser_too(
    gateway, upstream, tmp_path: Path
) -> None:
    table = tmp_path / "limits.yaml"
    table.write_text(
        yaml.safe_dump(
            {
                "buckets": {
                    "default": {"window": 60, "per_ip": 1, "per_identity": 1, "fail_open": True}
                },
                "rules": [],
            }
        )
    )
    documents = await upstream(echo_app())
    # billing is not running: its links get 502; documents is up, and limited to one call.
    client = await gateway({"documents": documents.url}, rate_limits_file=table)
    first = await client.get("/api/documents/files/1", headers=NAVIGATION)
    assert first.status == 200  # a file that is there is still the file, untouched
    assert (await first.json())["path"] == "/files/1"
    limited = await client.get("/api/documents/files/1", headers=NAVIGATION)
    assert limited.status == 429
    assert limited.content_type == "text/html"
    assert limited.headers["Retry-After"]
    assert "Trop de demandes" in await limited.text()


async def test_a_service_that_is_down_gives_a_page_to_a_browser_and_json_to_a_client(
    gateway,
) -> None:
    client = await gateway()  # every service at a dead address
    down = await client.get(_foreign_invoice_pdf(), headers=NAVIGATION)
    assert down.status == 502
    assert down.content_type == "text/html"
    text = html.unescape(await down.text())
    _assert_a_page_not_json(text)
    assert "Service momentanément indisponible" in text
    api = await client.get(_foreign_invoice_pdf())
    assert api.status == 502
    assert api.content_type == "application/problem+json"


@pytest.mark.browser
@requires_chromium
async def test_clicking_a_link_to_a_refused_file_shows_the_french_page(
    gateway, upstream, service_client, signer
) -> None:
    client, _, _ = await _billing_and_a_signed_in_parent(gateway, upstream, service_client, signer)
    base = str(client.make_url("")).rstrip("/")
    address = _foreign_invoice_pdf()
    async with chromium() as browser:
        page = await browser.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True)
        await sign_in_on_page(page, base, EMAIL, PASSWORD)
        # A link the way the portal's pages write them, on a page of the portal.
        await page.evaluate(
            """address => {
                const link = document.createElement('a');
                link.href = address;
                link.textContent = 'Facture de test';
                link.id = 'lien-facture';
                document.querySelector('main').prepend(link);
            }""",
            address,
        )
        async with page.expect_navigation() as navigation:
            await page.click("#lien-facture")
        response = await navigation.value
        assert response is not None and response.status in (403, 404)
        await page.screenshot(path=str(SCREENSHOTS / "helperE-refused-file-phone.png"))
        assert await page.locator("h1").inner_text() == "Document inaccessible"
        assert NOT_YOURS_FR in await page.locator("main").inner_text()
        assert "No such family" not in await page.content()
        home = page.get_by_role("link", name="Retour au tableau de bord")
        assert await home.get_attribute("href") == "/"
        await page.set_viewport_size({"width": 1280, "height": 800})
        await page.screenshot(path=str(SCREENSHOTS / "helperE-refused-file-desktop.png"))
        await home.click()
        await page.wait_for_url(f"{base}/")


def test_the_portals_file_links_are_plain_links() -> None:
    """A link with `download` is saved as a file even when refused: Chromium then saves the
    error page as `pdf.html` and cancels, and the person never reads it. The services send
    `Content-Disposition: attachment`, so a plain link still downloads a file that is there."""
    templates = Path(__file__).parents[2] / "gateway" / "templates"
    with_download = [
        f"{path.relative_to(templates)}: {line.strip()[:80]}"
        for path in sorted(templates.rglob("*.html"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if re.search(r"<a\b[^>]*\sdownload[\s>=]", line)
    ]
    assert not with_download, "\n".join(with_download)
