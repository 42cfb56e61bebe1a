"""« Espace des agents » through the real gateway and notifications service: each queue's tile
says how much waits in it (« Documents à valider — 1 en attente »), nothing when nothing
waits, and the page still shows every section when notifications does not answer."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from services.kit.database import Database
from services.kit.testing import TestSigner
from tests.browser import PHONE, chromium, requires_chromium, sign_in_on_page
from tests.gateway.fakes import PASSWORD

from .factories import of_type
from .mailing import deliver
from .portal import AGENT, FakeAuthWithStaff, make_portal, sign_in
from .smtp_server import SmtpServer
from .test_staff_waiting import write_to_the_structure

SCREENSHOTS = "/tmp/helperG-staff-home-{}.png"


def tile(page: str, queue: str) -> str:
    """The text of one queue's tile, tags and spacing taken out."""
    found = re.search(rf'<li class="tile[^"]*" data-queue="{queue}">(.*?)</li>', page, re.S)
    assert found, page
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())


async def test_the_tile_of_a_queue_says_how_much_waits_and_the_others_say_nothing(
    database: Database, service_client: Any, gateway: Any, upstream: Any, signer: TestSigner,
    smtp: SmtpServer,
) -> None:  # fmt: skip
    portal = await make_portal(database, service_client, gateway, upstream, signer, smtp.port)
    client = portal.client
    await sign_in(client, AGENT)
    quiet = await (await client.get("/")).text()

    await deliver(database, portal.settings, of_type("document.submitted", portal.family_id,
                                                     source="documents", submission_id="s1"))  # fmt: skip  # noqa: E501
    for _ in range(4):
        await write_to_the_structure(database, portal.settings, portal.family_id)
    waiting = await (await client.get("/")).text()
    english = await (await client.get("/?lang=en")).text()

    assert "tile__waiting" not in quiet and "en attente" not in quiet
    assert tile(quiet, "document") == "Documents à valider"
    assert tile(waiting, "document") == "Documents à valider — 1 en attente"
    assert tile(waiting, "messages") == "Messages des familles — 4 sans réponse"
    assert tile(waiting, "inscription") == "Demandes d'inscription"
    assert tile(waiting, "famille") == "Demandes de modification"
    assert tile(english, "document").endswith("— 1 waiting")
    assert tile(english, "messages").endswith("— 4 unanswered")


async def test_the_staff_home_shows_every_section_when_notifications_does_not_answer(
    gateway: Any, upstream: Any, signer: TestSigner
) -> None:
    # No notifications address given: the gateway's fixture points it at a dead port.
    auth = await upstream(FakeAuthWithStaff(signer, accounts={AGENT: []}).app())
    client = await gateway({"auth": auth.url})
    await sign_in(client, AGENT)

    home = await client.get("/")
    page = await home.text()

    assert home.status == 200
    assert tile(page, "document") == "Documents à valider"
    assert 'href="/agents/messages"' in page and 'href="/agents/comptes"' in page
    assert "en attente" not in page


@pytest.mark.browser
@requires_chromium
@pytest.mark.parametrize("screen", ["phone", "desktop"])
async def test_the_count_is_part_of_the_links_name_on_a_phone_and_a_desktop(
    database: Database, service_client: Any, gateway: Any, upstream: Any, signer: TestSigner,
    smtp: SmtpServer, screen: str,
) -> None:  # fmt: skip
    portal = await make_portal(database, service_client, gateway, upstream, signer, smtp.port)
    for n in range(3):
        await deliver(database, portal.settings, of_type("document.submitted", portal.family_id,
                                                         source="documents", submission_id=f"s{n}"))  # fmt: skip  # noqa: E501
    await deliver(database, portal.settings, of_type("registration.requested", portal.family_id,
                                                     source="bookings", registration_id="r1"))  # fmt: skip  # noqa: E501
    await write_to_the_structure(database, portal.settings, portal.family_id)
    base = str(portal.client.make_url("")).rstrip("/")
    viewport = PHONE if screen == "phone" else {"width": 1280, "height": 900}
    async with chromium() as browser:
        page = await browser.new_page(
            viewport=viewport, is_mobile=screen == "phone", locale="fr-FR"
        )
        await sign_in_on_page(page, base, AGENT, PASSWORD)

        documents = page.get_by_role("link", name="Documents à valider — 3 en attente")
        messages = page.get_by_role("link", name="Messages des familles — 1 sans réponse")
        # The accessible names carry the counts (role + name: what a screen reader says).
        assert await documents.count() == 1 and await messages.count() == 1
        await documents.focus()
        await page.screenshot(path=SCREENSHOTS.format(screen), full_page=True)
        width = await page.evaluate("document.documentElement.scrollWidth")

    assert width <= viewport["width"], "nothing overflows sideways"
