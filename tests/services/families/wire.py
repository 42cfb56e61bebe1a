"""What passes between the gateway and the families service, and a competing save timed on it.

`Wire` is a plain pass-through put where the gateway expects the families service: every
call reaches the real service unchanged. It notes the writes a page makes, and can run
another writer's save just before the write that carries the quotient — the moment a second
agent's « Enregistrer » lands in the middle of a save.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from .conftest import FamiliesApi, Portal
from .pages import PARENT_EMAIL, STAFF_EMAIL, AuthWithStaff

FORWARDED_HEADERS = ("Authorization", "Content-Type", "Accept", "X-Request-ID")


@dataclass
class Wire:
    """A pass-through to the families service at `target`."""

    target: str
    writes: list[str] = field(default_factory=list)
    # Runs once, before the first write whose JSON body has a `quotient`.
    before_quotient_write: Callable[[], Awaitable[None]] | None = None
    _calls: set[asyncio.Future[Any]] = field(default_factory=set)

    def app(self) -> web.Application:
        """The pass-through as an aiohttp app."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.forward)
        return app

    async def forward(self, request: web.Request) -> web.Response:
        """Send the call on as it is; answer what the service answered."""
        body = await request.read()
        if request.method != "GET":
            self.writes.append(f"{request.method} {request.path}")
            if self.before_quotient_write is not None and "quotient" in _json(body):
                competing, self.before_quotient_write = self.before_quotient_write, None
                await competing()
        headers = {h: request.headers[h] for h in FORWARDED_HEADERS if h in request.headers}
        # A call the gateway gives up on still reaches its end, as with the services in
        # production (aiohttp's servers do not cancel a handler whose client left; the test
        # servers do, which would cancel the service's handler too).
        call = asyncio.ensure_future(self._send(request.method, request.path_qs, body, headers))
        self._calls.add(call)
        call.add_done_callback(self._calls.discard)
        status, content, content_type = await asyncio.shield(call)
        return web.Response(
            status=status,
            body=content,
            headers={"Content-Type": content_type} if content_type else None,
        )

    async def _send(
        self, method: str, path_qs: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, bytes, str | None]:
        async with (
            aiohttp.ClientSession() as session,
            session.request(method, self.target + path_qs, data=body, headers=headers) as answer,
        ):
            return answer.status, await answer.read(), answer.headers.get("Content-Type")


def _json(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body) if body else {}
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


async def wired_portal(
    api: FamiliesApi,
    gateway: Any,
    upstream: Any,
    signer: Any,
    aiohttp_client: Any,
    *,
    deadline: float = 5.0,
) -> tuple[Portal, Wire]:
    """`conftest.portal`, with the gateway reaching the families service through a `Wire`
    and giving up on a call after `deadline` seconds."""
    family = await api.family(phone="05 59 29 00 00")
    await api.person(family["id"], role="responsable", first_name="Maïa", last_name="Etcheverry")
    auth = AuthWithStaff(
        signer, accounts={PARENT_EMAIL: [family["id"]], STAFF_EMAIL: []}, staff={STAFF_EMAIL}
    )
    auth_server = await upstream(auth.app())
    wire = Wire(str(api.client.make_url("")).rstrip("/"))
    wire_server = await upstream(wire.app())
    client = await gateway(
        {"auth": auth_server.url, "families": wire_server.url}, upstream_deadline_seconds=deadline
    )
    return Portal(api, client.server, aiohttp_client, family), wire
