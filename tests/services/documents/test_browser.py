"""In a real (headless) Chromium on a phone: a parent sends the vaccinations, staff accept."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.kit.testing import TestSigner
from tests.browser import PHONE, SCREENSHOTS, chromium, requires_chromium, sign_in_on_page
from tests.gateway.fakes import PASSWORD

from . import files
from .portal import portal

pytestmark = [
    pytest.mark.browser,
    requires_chromium,
]


async def test_a_parent_sends_the_vaccinations_from_mes_documents_and_staff_accept(
    service_client, make_documents, gateway, upstream, signer: TestSigner, tmp_path: Path
) -> None:
    client, _, _, _, _ = await portal(service_client, make_documents, gateway, upstream, signer)
    base = str(client.make_url("")).rstrip("/")
    scan = tmp_path / "carnet-vaccins.pdf"
    scan.write_bytes(files.pdf())
    hostile = tmp_path / "vaccins.pdf"
    hostile.write_bytes(files.HTML)
    violations: list[str] = []

    async with chromium() as browser:
        parent = await browser.new_page(viewport=PHONE, is_mobile=True)
        parent.on(
            "console",
            lambda m: violations.append(m.text) if "Content Security" in m.text else None,
        )
        await sign_in_on_page(parent, base, "famille.test@example.org", PASSWORD)
        await parent.goto(f"{base}/documents")
        assert "ASTUCE" in await parent.locator("main").inner_text()
        await parent.get_by_role("link", name="Enfant TEST").click()
        document = parent.locator('[data-document="Photocopie des vaccinations"]')
        assert "Aucun document transmis" in await document.inner_text()
        await parent.screenshot(path=str(SCREENSHOTS / "documents-member-phone.png"))
        await document.click()
        assert await parent.title() == "Photocopie des vaccinations — Mairie de Hasparren"

        # A page of HTML named .pdf: refused, and the page says why, in French.
        await parent.get_by_label("Fichiers à envoyer").set_input_files(str(hostile))
        await parent.get_by_role("button", name="ENVOYER", exact=True).click()
        alert = parent.locator("[data-upload-status]")
        await alert.filter(has_text="page HTML").wait_for()

        await parent.get_by_label("Fichiers à envoyer").set_input_files(str(scan))
        await parent.get_by_role("button", name="ENVOYER", exact=True).click()
        await parent.get_by_text("Votre document a bien été transmis.").wait_for()
        state = parent.locator("[data-state]")
        assert await state.inner_text() == "En attente de validation"
        await parent.screenshot(path=str(SCREENSHOTS / "documents-sent-phone.png"))
        width = await parent.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]

        staff = await browser.new_page()
        await sign_in_on_page(staff, base, "agent@example.org", PASSWORD)
        await staff.goto(f"{base}/agents/documents")
        row = staff.locator('[data-document="Photocopie des vaccinations"]')
        assert "Enfant TEST" in await row.inner_text()
        assert "carnet-vaccins.pdf" in await row.inner_text()
        await row.get_by_role("button", name="Accepter").click()
        await staff.get_by_text("Photocopie des vaccinations : accepté.").wait_for()
        assert "Aucun document en attente" in await staff.locator("main").inner_text()
        # Post/Redirect/Get: the queue's own address, a refresh decides nothing again.
        assert "/decision" not in staff.url and "/agents/documents?ok=accepte" in staff.url
        await staff.reload()
        assert await staff.get_by_role("alert").count() == 0
        await staff.get_by_text("Photocopie des vaccinations : accepté.").wait_for()
        await staff.screenshot(path=str(SCREENSHOTS / "helperH-document-decision.png"))

        await parent.reload()
        assert await parent.locator("[data-state]").inner_text() == "Accepté"
        await parent.screenshot(path=str(SCREENSHOTS / "documents-accepted-phone.png"))
    assert violations == []


async def test_the_staff_publication_list_fits_a_360_px_phone(
    service_client, make_documents, gateway, upstream, signer: TestSigner
) -> None:
    client, _, _, _, _ = await portal(service_client, make_documents, gateway, upstream, signer)
    base = str(client.make_url("")).rstrip("/")
    narrow = {"width": 360, "height": 740}  # the smallest phone the manual's pages must fit
    async with chromium() as browser:
        staff = await browser.new_page(viewport=narrow, is_mobile=True)
        await sign_in_on_page(staff, base, "agent@example.org", PASSWORD)
        await staff.goto(f"{base}/agents/documentation")
        await staff.get_by_label("Titre").fill("Règlement intérieur")
        await staff.get_by_label("Catégorie").fill("Règlement")
        await staff.get_by_role("button", name="Créer").click()
        await staff.wait_for_load_state()
        chooser = staff.locator('[data-org-document="Règlement intérieur"] input[type=file]')
        assert await chooser.count() == 1
        await staff.screenshot(path=str(SCREENSHOTS / "documents-publications-360.png"))
        # The file chooser of each row shrinks to the phone (it made the page 391 px wide).
        width = await staff.evaluate("document.documentElement.scrollWidth")
        assert width <= narrow["width"], width
