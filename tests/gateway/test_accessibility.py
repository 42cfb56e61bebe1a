"""Every page a parent and an agent reach passes axe-core's WCAG 2.1 A/AA audit in a real
Chromium: the parent on a phone, the agent on a desktop, in French (the reservation pages'
audit is with bookings' tests). The real families, billing, notifications and documents
services behind the real gateway, as in the English coverage test whose household it uses."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import PHONE, AccessibilityAudit, chromium, requires_chromium, sign_in_on_page

from .fakes import PASSWORD
from .test_i18n_coverage import (  # noqa: F401 (fixtures)
    AGENT,
    PARENT,
    families_database,
    portal,
    whole_portal,
)

pytestmark = [pytest.mark.browser, requires_chromium]

DESKTOP = {"width": 1280, "height": 900}


def _pages(family_id: str, person_id: str) -> dict[str, list[str]]:
    return {
        "anonymous": ["/connexion", "/mot-de-passe-oublie", "/documentation"],
        PARENT: [
            "/", "/famille", "/famille/modifier", f"/famille/personnes/{person_id}",
            f"/famille/personnes/{person_id}/modifier", "/factures", "/factures?vue=soldees",
            "/historique", "/contact", "/courriels", "/documents", "/documentation",
            "/mot-de-passe", "/securite", "/mes-donnees",
        ],
        AGENT: [
            "/", "/agents/demandes", "/agents/familles?q=TEST", f"/agents/familles/{family_id}",
            f"/agents/familles/{family_id}/modifier", f"/agents/familles/{family_id}/historique",
            "/agents/familles/nouvelle", "/agents/champs", "/agents/comptes",
            "/agents/comptes/inviter", "/agents/facturation", "/agents/factures",
            "/agents/messages", "/agents/destinataires", "/agents/actualites",
            "/agents/courriels", "/agents/lettres-mortes", "/agents/documents",
            "/agents/types-documents", "/agents/documentation",
        ],
    }  # fmt: skip


@pytest.mark.timeout(300)
async def test_the_pages_of_parents_and_agents_pass_the_accessibility_audit(
    whole_portal: dict[str, Any],  # noqa: F811 (the imported fixture)
) -> None:
    base = str(whole_portal["anonymous"].make_url("")).rstrip("/")
    pages = _pages(whole_portal["family"]["id"], whole_portal["person"]["id"])
    audit = AccessibilityAudit("gateway")
    async with chromium() as browser:
        for who, paths in pages.items():
            viewport = DESKTOP if who == AGENT else PHONE
            context = await browser.new_context(viewport=viewport, is_mobile=who != AGENT)
            page = await context.new_page()
            if who != "anonymous":
                await sign_in_on_page(page, base, who, PASSWORD)
            for path in paths:
                response = await page.goto(f"{base}{path}")
                assert response is not None and response.status == 200, (who, path)
                await audit.check(page, f"{who} {path}")
            await context.close()
    assert not audit.found, audit.report()
