"""The staff's sub-navigations say which page is shown, through the real gateway and services.

Found trying the portal as a new agent: on « Messages des familles », « Destinataires »,
« Actualités », « Courriels » and « Événements non traités » every link of the navigation
looked the same, where the families' and the catalogue's pages mark theirs.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from services.kit.database import Database
from services.kit.testing import TestSigner
from tests.services.notifications.conftest import database, smtp  # noqa: F401 (fixtures)
from tests.services.notifications.portal import AGENT, make_portal, sign_in
from tests.services.notifications.smtp_server import SmtpServer

NOTIFICATION_PAGES = [
    "/agents/messages",
    "/agents/destinataires",
    "/agents/actualites",
    "/agents/courriels",
    "/agents/lettres-mortes",
]


def current_links(page: str) -> list[str]:
    """The hrefs of the staff navigation's links marked as the page shown."""
    nav = re.search(r'<nav class="staff-nav".*?</nav>', page, re.S)
    assert nav, page
    return re.findall(r'<a href="([^"]+)" aria-current="page">', nav.group(0))


@pytest.mark.parametrize("path", NOTIFICATION_PAGES)
async def test_the_notifications_staff_pages_mark_the_page_shown_in_their_navigation(
    path: str,
    database: Database,  # noqa: F811
    service_client: Any,
    gateway: Any,
    upstream: Any,
    signer: TestSigner,
    smtp: SmtpServer,  # noqa: F811
) -> None:
    portal = await make_portal(database, service_client, gateway, upstream, signer, smtp.port)
    await sign_in(portal.client, AGENT)

    response = await portal.client.get(path)
    page = await response.text()

    assert response.status == 200, page
    assert current_links(page) == [path]
