"""« Mes données » in a real (headless) Chromium on a 360 px phone: from the dashboard to the
downloaded ZIP, and the page naming a missing part when a service is down."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from services.kit.testing import TestSigner
from tests.browser import SCREENSHOTS, chromium, requires_chromium, sign_in_on_page
from tests.services.auth.conftest import GOOD_PASSWORD

from .conftest import dead_url
from .test_my_data import FILES, start_portal

pytestmark = [
    pytest.mark.browser,
    requires_chromium,
]
NARROW_PHONE = {"width": 360, "height": 740}


async def test_a_parent_downloads_the_zip_from_the_dashboard_on_a_phone(
    gateway: Any, service_client: Any, signer: TestSigner, tmp_path: Path
) -> None:
    portal = await start_portal(service_client, gateway, signer)
    # Six services answer from this test's loop: a connection may wait its turn on a loaded
    # machine (CI once saw the 1 s connect timeout cut one part, and no file was given).
    client = await gateway(
        portal.urls, jwks_json=portal.jwks, upstream_connect_timeout_seconds=10.0
    )
    broken = await gateway({**portal.urls, "documents": dead_url()}, jwks_json=portal.jwks)
    violations: list[str] = []

    async with chromium() as browser:
        for gateway_client, name in ((client, "ok"), (broken, "missing")):
            base = str(gateway_client.make_url("")).rstrip("/")
            context = await browser.new_context(
                viewport=NARROW_PHONE, device_scale_factor=2, is_mobile=True,
                accept_downloads=True,
            )  # fmt: skip
            page = await context.new_page()
            page.on(
                "console",
                lambda m: (
                    violations.append(m.text) if "Content Security Policy" in m.text else None
                ),
            )
            await sign_in_on_page(page, base, portal.mine.email, GOOD_PASSWORD)
            await page.get_by_role("link", name="Mes données").click()
            await page.wait_for_url(f"{base}/mes-donnees*")
            assert await page.title() == "Mes données — Mairie de Hasparren"
            await page.screenshot(path=str(SCREENSHOTS / f"my-data-{name}-360.png"), full_page=True)
            button = page.get_by_role("button", name="Télécharger mes données (ZIP)")
            if name == "ok":
                # Six services answer from this test's one loop: on a loaded machine the
                # archive took over Playwright's default 30 s (seen at load 8).
                async with page.expect_download(timeout=90_000) as waiting:
                    await button.click()
                download = await waiting.value
                saved = tmp_path / download.suggested_filename
                await download.save_as(saved)
                assert saved.name.startswith("donnees-famille-")
                with zipfile.ZipFile(saved) as archive:
                    assert set(archive.namelist()) == FILES
                    family = json.loads(archive.read("famille.json"))
                assert family["family"]["id"] == portal.mine.id
            else:
                await button.click()
                alert = page.get_by_role("alert")
                assert "Documents" in await alert.inner_text()
                await page.screenshot(
                    path=str(SCREENSHOTS / "my-data-missing-part-360.png"), full_page=True
                )
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= NARROW_PHONE["width"]  # nothing overflows sideways
            await context.close()
    assert violations == []
