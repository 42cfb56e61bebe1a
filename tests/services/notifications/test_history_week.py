"""« Historique »: the week is chosen by any of its days (a date field every browser has) or by
the links to the weeks around it; `?semaine=2026-W10` links keep working."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.kit.database import Database
from services.kit.testing import TestSigner
from services.kit.typography import french_spacing
from tests.browser import PHONE, SCREENSHOTS, chromium, requires_chromium, sign_in_on_page
from tests.gateway.fakes import PASSWORD

from .factories import of_type
from .mailing import deliver
from .portal import PARENT, make_portal, sign_in
from .smtp_server import SmtpServer

WEEK_10 = "semaine du 02/03/2026 au 08/03/2026"


async def journal_of_march(database: Database, portal: Any) -> None:
    """A sign-in a day from Monday 2 March 2026 (09:00 in Paris) for 25 days."""
    start = datetime(2026, 3, 2, 8, tzinfo=UTC)
    for n in range(25):
        message = of_type("account.login_succeeded", portal.family_id, source="auth",
                          account_id=PARENT)  # fmt: skip
        message["occurred_at"] = (start + timedelta(days=n)).isoformat()
        await deliver(database, portal.settings, message)


async def test_any_day_of_a_week_filters_that_week_and_links_lead_to_the_next_ones(
    database: Database, service_client: Any, gateway: Any, upstream: Any, signer: TestSigner,
    smtp: SmtpServer,
) -> None:  # fmt: skip
    portal = await make_portal(database, service_client, gateway, upstream, signer, smtp.port)
    await journal_of_march(database, portal)
    client = portal.client
    await sign_in(client, PARENT)

    wednesday = html.unescape(await (await client.get("/historique?jour=2026-03-04")).text())
    typed = html.unescape(await (await client.get("/historique?jour=04/03/2026")).text())
    old_link = html.unescape(await (await client.get("/historique?semaine=2026-W10")).text())

    for page in (wednesday, typed, old_link):
        assert WEEK_10 in page and page.count('data-event="account.login_succeeded"') == 7
        assert 'type="week"' not in page
        # The field shows the week's Monday: submitting again keeps the same week.
        assert '<input id="jour" name="jour" type="date" value="2026-03-02"' in page
    assert 'href="/historique?semaine=2026-W09" rel="prev">← Semaine du 23/02/2026' in wednesday
    assert 'href="/historique?semaine=2026-W11" rel="next">Semaine du 09/03/2026 →' in wednesday

    following = html.unescape(await (await client.get("/historique?semaine=2026-W11")).text())
    assert "semaine du 09/03/2026 au 15/03/2026" in following
    assert following.count('data-event="account.login_succeeded"') == 7

    wrong = await client.get("/historique?jour=31/02/2026")
    page = html.unescape(await wrong.text())
    assert french_spacing("Cette date n'est pas valable : choisissez un jour (JJ/MM/AAAA).") in page
    assert (
        'aria-invalid="true"' in page and french_spacing("Filtre :") not in page
    )  # no week was guessed
    english = await (await client.get("/historique?jour=2026-03-04&lang=en")).text()
    assert "Pick any day of the week you want." in english and "Week of 9 March 2026" in english


@pytest.mark.browser
@requires_chromium
async def test_a_parent_picks_a_day_then_steps_to_the_next_week_on_a_phone(
    database: Database, service_client: Any, gateway: Any, upstream: Any, signer: TestSigner,
    smtp: SmtpServer,
) -> None:  # fmt: skip
    portal = await make_portal(database, service_client, gateway, upstream, signer, smtp.port)
    await journal_of_march(database, portal)
    base = str(portal.client.make_url("")).rstrip("/")
    console: list[str] = []
    async with chromium() as browser:
        page = await browser.new_page(viewport=PHONE, is_mobile=True, locale="fr-FR")
        page.on("console", lambda m: console.append(m.text))
        await sign_in_on_page(page, base, PARENT, PASSWORD)
        await page.goto(f"{base}/historique")
        await page.get_by_label("Semaine", exact=True).fill("2026-03-05")
        await page.get_by_role("button", name="Filtrer par semaine").click()
        await page.get_by_text(WEEK_10).wait_for()
        assert await page.locator("tr[data-event]").count() == 7
        await page.screenshot(path=str(SCREENSHOTS / "history-week.png"), full_page=True)
        await page.get_by_role("link", name="Semaine du 09/03/2026 →").click()
        await page.get_by_text("semaine du 09/03/2026 au 15/03/2026").wait_for()
        assert await page.get_by_label("Semaine", exact=True).input_value() == "2026-03-09"
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]
    assert [c for c in console if "Content Security Policy" in c] == []
