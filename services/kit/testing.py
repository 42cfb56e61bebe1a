"""Helpers for tests: a signing key of our own and tokens minted with it."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .identity import TOKEN_ALGORITHM


class TestSigner:
    """An Ed25519 key pair that signs tokens the way the auth service does."""

    __test__ = False  # not a pytest class

    def __init__(self, *, issuer: str = "portail-auth", audience: str = "portail") -> None:
        self.private_key = Ed25519PrivateKey.generate()
        self.kid = uuid.uuid4().hex
        self.issuer = issuer
        self.audience = audience

    @property
    def jwks(self) -> dict[str, Any]:
        """The public half as a JWKS document."""
        public = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(self.private_key.public_key()))
        public.update({"kid": self.kid, "use": "sig", "alg": TOKEN_ALGORITHM})
        return {"keys": [public]}

    def token(
        self,
        *,
        subject: str = "test-account",
        role: str = "family",
        families: Iterable[str] = (),
        rights: Iterable[str] = ("book", "invoices", "edit"),
        scopes: Iterable[str] = (),
        ttl: int = 300,
        **extra: Any,
    ) -> str:
        """A signed token with our claims."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": subject,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "exp": now + ttl,
            "role": role,
            "fam": [{"id": f, "rights": list(rights)} for f in families],
            "scope": " ".join(scopes),
            **extra,
        }
        return jwt.encode(
            claims, self.private_key, algorithm=TOKEN_ALGORITHM, headers={"kid": self.kid}
        )

    def headers(self, **claims: Any) -> dict[str, str]:
        """An Authorization header for a token with these claims."""
        return {"Authorization": f"Bearer {self.token(**claims)}"}
