"""The contact form's captcha: a self-hosted proof of work (ALTCHA), or hCaptcha when configured.

Proof of work stops bulk senders without asking anything of a person: the browser finds a
number whose SHA-256 with the server's salt matches the challenge (a fraction of a second),
nothing to see, read or click — nothing that excludes a screen-reader user. The challenge is
HMAC-signed and expires; a solution is accepted once (its challenge is remembered in Redis
until it expires). It works offline: nothing is asked of a third party.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from aiohttp import ClientError, ClientSession
from altcha import v1 as altcha
from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.kit.problems import Problem, ServiceUnavailable

from .config import NotificationsSettings

log = structlog.get_logger(__name__)
USED_KEY = "notifications:captcha:used:{}"


class CaptchaRefused(Problem):
    """No captcha, a wrong one, an expired one, or one already used."""

    status, slug, title = 422, "captcha-refused", "Captcha refused"


class Captcha:
    """Issues and verifies challenges; `verify` consumes them."""

    def __init__(self, settings: NotificationsSettings, redis: Redis) -> None:
        self.settings = settings
        self.redis = redis

    def challenge(self) -> dict[str, Any]:
        """What the browser needs: an ALTCHA challenge, or hCaptcha's site key."""
        if self.settings.hcaptcha_enabled:
            return {"kind": "hcaptcha", "sitekey": self.settings.hcaptcha_sitekey}
        expires = datetime.now(UTC) + timedelta(seconds=self.settings.captcha_ttl_seconds)
        made = altcha.create_challenge(
            altcha.ChallengeOptions(
                hmac_key=self.settings.captcha_secret,
                max_number=self.settings.captcha_max_number,
                expires=expires,
            )
        )
        return {
            "kind": "altcha",
            "algorithm": made.algorithm,
            "challenge": made.challenge,
            "maxnumber": made.max_number,
            "salt": made.salt,
            "signature": made.signature,
        }

    async def verify(self, payload: str | None, *, http: ClientSession | None = None) -> None:
        """Accept a solved, unexpired, unused challenge once; raise `CaptchaRefused` otherwise."""
        if not payload:
            raise CaptchaRefused("The anti-robot check is missing.", reason="missing")
        if self.settings.hcaptcha_enabled:
            await self._verify_hcaptcha(payload, http)
            return
        try:
            valid, error = altcha.verify_solution(
                payload, self.settings.captcha_secret, check_expires=True
            )
        except Exception:  # malformed base64 or JSON from the client
            valid, error = False, "malformed"
        if not valid:
            raise CaptchaRefused("The anti-robot check failed.", reason=str(error or "invalid"))
        await self._use_once(payload)

    async def _use_once(self, payload: str) -> None:
        key = USED_KEY.format(hashlib.sha256(payload.encode()).hexdigest())
        try:
            first = await self.redis.set(key, "1", nx=True, ex=self.settings.captcha_ttl_seconds)
        except RedisError:
            # Fail closed: without the memory of used challenges, one could be replayed.
            raise ServiceUnavailable(
                "The anti-robot check is unavailable; try again shortly.",
                headers={"Retry-After": "5"},
            ) from None
        if not first:
            raise CaptchaRefused("This anti-robot check was already used.", reason="replayed")

    async def _verify_hcaptcha(self, token: str, http: ClientSession | None) -> None:
        if http is None:
            raise ServiceUnavailable("The anti-robot check is unavailable.")
        form = {"secret": self.settings.hcaptcha_secret, "response": token}
        try:
            async with http.post(self.settings.hcaptcha_verify_url, data=form) as response:
                answer = await response.json(content_type=None)
        except (ClientError, TimeoutError, ValueError) as exc:
            log.warning("hcaptcha_unreachable", error=type(exc).__name__)
            raise ServiceUnavailable("The anti-robot check is unavailable.") from None
        if not isinstance(answer, dict) or answer.get("success") is not True:
            raise CaptchaRefused("The anti-robot check failed.", reason="hcaptcha")
