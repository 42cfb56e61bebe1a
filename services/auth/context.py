"""What the auth handlers share for the life of the application, under one typed app key."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiohttp import web

from services.kit.database import Database

from .config import AuthSettings
from .crypto import Sealer
from .passwords import Passwords
from .signing import KeyRing
from .throttle import Throttle, Window
from .tokens import TokenIssuer

log = structlog.get_logger(__name__)


@dataclass
class AuthContext:
    """The service's collaborators: database, hashing, keys, tokens, throttles."""

    settings: AuthSettings
    database: Database
    sealer: Sealer
    passwords: Passwords
    keyring: KeyRing
    issuer: TokenIssuer
    throttle: Throttle
    background: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def account_window(self) -> Window:
        """Failed checks allowed per account."""
        s = self.settings
        return Window(s.account_failures_limit, s.account_failures_window_seconds)

    @property
    def ip_window(self) -> Window:
        """Attempts allowed per client address."""
        s = self.settings
        return Window(s.ip_attempts_limit, s.ip_attempts_window_seconds)

    @property
    def mail_window(self) -> Window:
        """Reset or invitation e-mails one account may receive per hour on request."""
        return Window(self.settings.reset_requests_per_email_per_hour, 3600)

    def run_in_background(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Run `work` after the response, kept until done so shutdown can wait for it."""

        async def guarded() -> None:
            try:
                await work
            except Exception:
                log.exception("background_work_failed", work=name)

        task = asyncio.create_task(guarded(), name=name)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def drain(self) -> None:
        """Wait for background work still running."""
        if self.background:
            await asyncio.gather(*self.background, return_exceptions=True)


AUTH: web.AppKey[AuthContext] = web.AppKey("auth", AuthContext)
