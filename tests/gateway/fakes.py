"""Small real services that keep the contracts the gateway relies on (auth, dashboards)."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field

from aiohttp import web

from services.kit.testing import TestSigner

PASSWORD = "un mot de passe assez long"


@dataclass
class FakeAuth:
    """The auth service's session contract, with accounts `email → family ids`."""

    signer: TestSigner
    accounts: dict[str, list[str]] = field(default_factory=dict)
    sessions: dict[str, str] = field(default_factory=dict)
    refreshes: int = 0
    sign_ins: list[dict[str, str]] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    expires_in: int = 300

    def token(self, email: str) -> str:
        return self.signer.token(subject=email, families=self.accounts[email], ttl=self.expires_in)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/sessions", self._sign_in)
        app.router.add_post("/sessions/refresh", self._refresh)
        app.router.add_delete("/sessions/current", self._sign_out)
        return app

    async def _sign_in(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.sign_ins.append({**body, "forwarded_for": request.headers.get("X-Forwarded-For", "")})
        if body.get("email") not in self.accounts or body.get("password") != PASSWORD:
            return web.json_response(
                {"type": "x", "title": "Unauthenticated", "status": 401, "detail": "no"},
                status=401,
                content_type="application/problem+json",
            )
        session_token = secrets.token_urlsafe(32)
        self.sessions[session_token] = body["email"]
        return web.json_response(
            {
                "session_token": session_token,
                "token": self.token(body["email"]),
                "expires_in": self.expires_in,
            },
            status=201,
        )

    async def _refresh(self, request: web.Request) -> web.Response:
        self.refreshes += 1
        email = self.sessions.get(request.headers.get("X-Session-Token", ""))
        if email is None:
            return web.json_response({"status": 401}, status=401)
        return web.json_response({"token": self.token(email), "expires_in": self.expires_in})

    async def _sign_out(self, request: web.Request) -> web.Response:
        token = request.headers.get("X-Session-Token", "")
        self.revoked.append(token)
        self.sessions.pop(token, None)
        return web.Response(status=204)


def dashboard_app(tiles: dict[str, object], *, delay: float = 0.0) -> web.Application:
    """A service answering `GET /dashboard/{family_id}` with `tiles` (after `delay`)."""
    app = web.Application()
    calls: list[str] = []

    async def dashboard(request: web.Request) -> web.Response:
        calls.append(request.headers.get("Authorization", ""))
        if delay:
            await asyncio.sleep(delay)
        return web.json_response(tiles)

    app.router.add_get("/dashboard/{family_id}", dashboard)
    app[CALLS] = calls
    return app


CALLS: web.AppKey[list[str]] = web.AppKey("calls", list)
