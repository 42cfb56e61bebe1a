"""The real gateway in front of the real families service, with a session-contract auth stand-in.

The auth stand-in is the gateway's own `FakeAuth` (it keeps auth's session contract), extended
with staff accounts; every page then calls the families service with the visitor's token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.gateway.conftest import same_origin
from tests.gateway.fakes import PASSWORD, FakeAuth

PARENT_EMAIL = "parent@exemple.fr"
STAFF_EMAIL = "agent@exemple.fr"


@dataclass
class AuthWithStaff(FakeAuth):
    """`FakeAuth` whose `staff` e-mails sign in as agents of the structure."""

    staff: set[str] = field(default_factory=set)

    def token(self, email: str) -> str:
        """A staff token for agents, a family token for parents."""
        if email in self.staff:
            return self.signer.token(subject=email, role="staff", ttl=self.expires_in)
        return super().token(email)


def text_of(html: str) -> str:
    """The visible text of a page, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def csrf_of(html: str) -> str:
    """The CSRF token of the first form of a page."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


async def sign_in(client: TestClient[web.Request, web.Application], email: str) -> None:
    """Open a session through the sign-in page."""
    response = await client.post(
        "/connexion",
        data={"email": email, "password": PASSWORD},
        headers=same_origin(client),
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()


async def post_form(
    client: TestClient[web.Request, web.Application],
    page: str,
    action: str,
    data: dict[str, Any],
) -> Any:
    """Submit a form the way a browser would: read the page for its token, then post."""
    html = await (await client.get(page)).text()
    return await client.post(
        action,
        data={"csrf_token": csrf_of(html), **data},
        headers=same_origin(client),
        allow_redirects=False,
    )
