"""The short-lived JWTs this service signs, and the verifier that knows our own keys."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import jwt
from aiohttp import ClientSession

from services.kit.identity import TOKEN_ALGORITHM, TokenVerifier

from .config import AuthSettings
from .models import Account
from .signing import KeyRing


def account_claims(account: Account, *, session_id: str) -> dict[str, Any]:
    """The identity claims of an account: its role, memberships or staff roles."""
    if account.kind == "staff":
        return {
            "sub": account.id,
            "role": "staff",
            "fam": [],
            "scope": "",
            "staff_roles": sorted(account.staff_roles or []),
            "sid": session_id,
        }
    return {
        "sub": account.id,
        "role": "family",
        "fam": [
            {"id": m.family_id, "rights": sorted(m.rights)}
            for m in sorted(account.memberships, key=lambda m: m.created_at)
        ],
        "scope": "",
        "sid": session_id,
    }


def client_claims(client_id: str, scopes: Iterable[str]) -> dict[str, Any]:
    """The identity claims of a municipal system."""
    return {"sub": f"client:{client_id}", "role": "service", "fam": [], "scope": " ".join(scopes)}


class TokenIssuer:
    """Signs claims with the keyring's current key."""

    def __init__(self, keyring: KeyRing, settings: AuthSettings) -> None:
        self.keyring = keyring
        self.settings = settings

    @property
    def ttl(self) -> int:
        """Lifetime of every token, in seconds."""
        return self.settings.token_ttl_seconds

    async def issue(self, claims: dict[str, Any]) -> str:
        """A signed token carrying `claims` plus issuer, audience, times and an id."""
        key = await self.keyring.signing_key()
        now = int(time.time())
        payload = {
            **claims,
            "iss": self.settings.jwt_issuer,
            "aud": self.settings.jwt_audience,
            "iat": now,
            "exp": now + self.ttl,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(
            payload, key.private_key, algorithm=TOKEN_ALGORITHM, headers={"kid": key.kid}
        )


class KeyRingVerifier(TokenVerifier):
    """The kit's verifier (same pinned algorithm and checks), reading our own keys first."""

    def __init__(
        self,
        keyring: KeyRing,
        *,
        issuer: str,
        audience: str,
        jwks_url: str = "",
        jwks_json: str = "",
        http: Callable[[], ClientSession] | None = None,
    ) -> None:
        super().__init__(
            issuer=issuer, audience=audience, jwks_url=jwks_url, jwks_json=jwks_json, http=http
        )
        self.keyring = keyring

    async def _key(self, kid: str) -> jwt.PyJWK:
        own = await self.keyring.public_key(kid)
        if own is not None:
            return own
        return await super()._key(kid)
