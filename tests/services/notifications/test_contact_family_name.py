"""The staff e-mail of « Contacter la structure » names the family as staff know it (« la famille
TEST », the families service's name), read through the real gateway from the real families
service with the parent's token; when families cannot answer, the message is stored and its
e-mail goes all the same, naming the parent's address."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage
from typing import Any

from aiohttp import web
from redis.asyncio import Redis

from services.kit.database import Database
from services.kit.testing import TestSigner
from services.kit.typography import french_spacing
from services.notifications.seed import recipient_id
from tests.gateway.conftest import dead_url, same_origin
from tests.services.billing.conftest import point_at

from ... import support
from .mailing import send_pending
from .portal import PARENT, Portal, make_portal, sign_in
from .smtp_server import SmtpServer
from .test_contact import solve
from .test_pages import challenge_in

GUICHET = "Guichet unique inscriptions"
GUICHET_ADDRESS = "guichet@example.org"


async def portal_with_families(
    families_url: str, family_id: str, database: Database, service_client: Any, gateway: Any,
    upstream: Any, signer: TestSigner, smtp: SmtpServer, *, name_timeout: float = 10.0,
) -> Portal:  # fmt: skip
    """The gateway in front of notifications and of `families_url`; notifications asks the
    families service through that very gateway, as in the portal."""
    # The parent's hourly limit counts in Redis, which outlives a test: each starts at 0.
    counters = Redis.from_url(support.redis_url())
    async for key in counters.scan_iter("notifications:contact:*"):
        await counters.delete(key)
    await counters.aclose()
    portal = await make_portal(
        database, service_client, gateway, upstream, signer, smtp.port,
        more_services={"families": families_url}, family_id=family_id,
    )  # fmt: skip
    # The gateway's port exists only after the service's: point the service at it now. The
    # test's one loop serves every process, so the name gets room unless a test means less.
    point_at(
        portal.service,
        gateway_url=str(portal.client.make_url("")).rstrip("/"),
        family_name_timeout_seconds=name_timeout,
    )
    return portal


async def write_and_reply(portal: Portal) -> None:
    """The parent writes to the guichet through the page, then adds a reply in the thread."""
    client = portal.client
    csrf = await sign_in(client, PARENT)
    form = await (await client.get("/contact")).text()
    sent = await client.post(
        "/contact",
        data={
            "csrf_token": csrf,
            "famille": portal.family_id,
            "destinataire": recipient_id(GUICHET),
            "objet": "Inscription ALSH",
            "message": "Reste-t-il des places ?",
            "captcha": solve(challenge_in(form)),
        },
        headers=same_origin(client),
        allow_redirects=False,
    )
    assert sent.status == 303, await sent.text()
    thread_url = sent.headers["Location"].split("?")[0]
    replied = await client.post(
        f"{thread_url}/repondre",
        data={"csrf_token": csrf, "message": "Et pour le mercredi ?"},
        headers=same_origin(client),
        allow_redirects=False,
    )
    assert replied.status == 303, await replied.text()


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return " ".join(str(part.get_content()).split())


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


async def test_the_staff_email_names_the_family_by_its_name_and_the_parents_address(
    database: Database, service_client: Any, gateway: Any, upstream: Any, signer: TestSigner,
    smtp: SmtpServer,
) -> None:  # fmt: skip
    families = await service_client("families")
    staff = signer.headers(role="staff", subject="agent-1")
    created = await families.post("/families", json={"name": "TEST"}, headers=staff)
    assert created.status == 201, await created.text()
    family_id = (await created.json())["id"]
    families_url = str(families.make_url("")).rstrip("/")
    portal = await portal_with_families(
        families_url, family_id, database, service_client, gateway, upstream, signer, smtp
    )

    await write_and_reply(portal)
    await send_pending(database, portal.settings)

    first, reply = smtp.inbox.to(GUICHET_ADDRESS)
    assert str(first["Subject"]) == french_spacing(
        "[Espace Famille] Nouveau message de la famille TEST : Inscription ALSH", narrow=False
    )
    assert (
        f"Un nouveau message a été envoyé à {GUICHET} par la famille TEST ({PARENT}) :"
        in text_of(first)
    )
    assert f"par la famille <strong>TEST</strong> ({PARENT})" in html_of(first)
    assert f"par la famille TEST ({PARENT}) : Objet : Inscription ALSH" in text_of(reply)
    assert "Et pour le mercredi ?" in text_of(reply)


async def test_without_the_families_service_the_email_still_goes_naming_the_address(
    database: Database, service_client: Any, gateway: Any, upstream: Any, signer: TestSigner,
    smtp: SmtpServer,
) -> None:  # fmt: skip
    portal = await portal_with_families(
        dead_url(), "f0000000-0000-4000-8000-000000000001", database, service_client, gateway,
        upstream, signer, smtp,
    )  # fmt: skip

    await write_and_reply(portal)
    await send_pending(database, portal.settings)

    first, reply = smtp.inbox.to(GUICHET_ADDRESS)
    assert str(first["Subject"]) == french_spacing(
        "[Espace Famille] Nouveau message : Inscription ALSH", narrow=False
    )
    for mail in (first, reply):
        assert f"par une famille ({PARENT}) :" in text_of(mail)


async def test_a_families_service_that_hangs_does_not_hold_the_message_back(
    database: Database, service_client: Any, gateway: Any, upstream: Any, signer: TestSigner,
    smtp: SmtpServer,
) -> None:  # fmt: skip
    # Unbounded, the name would wait for the gateway's own deadline (5 s here), which also
    # bounds the page's call to notifications: the parent would read an error for a message
    # stored after all. Bounded below it, the form answers 303 and the e-mail goes.
    never = asyncio.Event()

    async def hang(request: web.Request) -> web.Response:
        await never.wait()  # a families service stuck on its database
        return web.json_response([])

    stuck = web.Application()
    stuck.router.add_route("*", "/{tail:.*}", hang)
    silent = await upstream(stuck)
    portal = await portal_with_families(
        silent.url, "f0000000-0000-4000-8000-000000000002", database, service_client, gateway,
        upstream, signer, smtp, name_timeout=0.2,
    )  # fmt: skip

    await write_and_reply(portal)
    await send_pending(database, portal.settings)

    first, reply = smtp.inbox.to(GUICHET_ADDRESS)
    for mail in (first, reply):
        assert f"par une famille ({PARENT}) :" in text_of(mail)
    never.set()
