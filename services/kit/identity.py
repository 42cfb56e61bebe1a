"""Who is calling: the JWT the gateway forwards, verified here by every service (never a header)."""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import jwt
import structlog
from aiohttp import ClientSession, web
from redis.exceptions import RedisError

from . import revoked_clients
from .keys import REDIS, TOKEN_VERIFIER
from .problems import Forbidden, NotFound, Unauthenticated

# Pinned: a token announcing any other algorithm (none, HS256, RS256…) is refused.
TOKEN_ALGORITHM = "EdDSA"  # noqa: S105 (an algorithm name, not a secret)
JWKS_REFRESH_INTERVAL_SECONDS = 30.0
VERIFIED_CACHE_SIZE = 10_000

Role = Literal["family", "staff", "service"]
log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Membership:
    """An account's link to one family, with what it may do there."""

    family_id: str
    rights: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Identity:
    """The verified caller of a request."""

    subject: str
    role: Role
    memberships: tuple[Membership, ...] = ()
    scopes: frozenset[str] = frozenset()
    staff_roles: frozenset[str] = field(default_factory=frozenset)
    # When auth signed the token (its `iat`, epoch seconds): what the token says may have
    # lapsed since (bookings' calendar links ask, kit/lapse_marks.py). Not who calls: two
    # tokens of the same caller are the same identity.
    issued_at: float | None = field(default=None, compare=False)

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Identity:
        """Read our claims: `role`, `fam` (memberships), `scope`, `staff_roles`."""
        role = claims.get("role")
        if role not in ("family", "staff", "service"):
            raise jwt.InvalidTokenError("unknown role")
        memberships = tuple(
            Membership(str(m["id"]), frozenset(m.get("rights", ()))) for m in claims.get("fam", ())
        )
        return cls(
            subject=str(claims["sub"]),
            role=role,
            memberships=memberships,
            scopes=frozenset(str(claims.get("scope", "")).split()),
            staff_roles=frozenset(claims.get("staff_roles", ())),
            issued_at=float(iat) if isinstance((iat := claims.get("iat")), int | float) else None,
        )

    @property
    def acted(self) -> dict[str, str]:
        """Who acted, as events' data name it: `by` (the token's subject) and `by_role`.

        The family's history shows it (« Par : … »); staff and software are a role to a
        family, their id shown to staff only."""
        return {"by": self.subject, "by_role": self.role}

    @property
    def family_ids(self) -> frozenset[str]:
        """The families this caller belongs to."""
        return frozenset(m.family_id for m in self.memberships)

    def membership(self, family_id: str) -> Membership | None:
        """This caller's membership of `family_id`, if any."""
        return next((m for m in self.memberships if m.family_id == family_id), None)


class TokenVerifier:
    """Verifies our JWTs against the auth service's JWKS, refetched when a new key appears."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        jwks_url: str = "",
        jwks_json: str = "",
        http: Callable[[], ClientSession] | None = None,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self._jwks_url = jwks_url
        self._http = http
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = 0.0
        # Verified tokens and their expiry: the gateway forwards the same token for a whole
        # session, so most requests skip the signature check. Only successes are cached.
        self._verified: OrderedDict[str, tuple[Identity, float]] = OrderedDict()
        if jwks_json:
            self._keys = _parse_jwks(json.loads(jwks_json))
            self._fetched_at = float("inf")  # inline keys are never refetched

    async def verify(self, token: str) -> Identity:
        """The identity in `token`, or `jwt.InvalidTokenError`."""
        cached = self._verified.get(token)
        if cached is not None:
            identity, expires_at = cached
            if time.time() < expires_at:
                self._verified.move_to_end(token)
                return identity
            del self._verified[token]
        identity, expires_at = await self._verify_signed(token)
        self._verified[token] = (identity, expires_at)
        if len(self._verified) > VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)
        return identity

    async def _verify_signed(self, token: str) -> tuple[Identity, float]:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != TOKEN_ALGORITHM:
            raise jwt.InvalidAlgorithmError("algorithm not allowed")
        key = await self._key(str(header.get("kid", "")))
        claims = jwt.decode(
            token,
            key=key,
            algorithms=[TOKEN_ALGORITHM],
            audience=self.audience,
            issuer=self.issuer,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            leeway=5,
        )
        return Identity.from_claims(claims), float(claims["exp"])

    async def _key(self, kid: str) -> jwt.PyJWK:
        if kid not in self._keys and self._may_refresh():
            await self._refresh()
        try:
            return self._keys[kid]
        except KeyError:
            raise jwt.InvalidTokenError("unknown signing key") from None

    def _may_refresh(self) -> bool:
        # A flood of tokens with random kids must not turn into a flood of JWKS fetches.
        return (
            time.monotonic() - self._fetched_at >= JWKS_REFRESH_INTERVAL_SECONDS or not self._keys
        )

    async def _refresh(self) -> None:
        if not self._jwks_url or self._http is None:
            return
        self._fetched_at = time.monotonic()
        try:
            async with self._http().get(self._jwks_url) as response:
                response.raise_for_status()
                self._keys = _parse_jwks(await response.json())
        except Exception as exc:
            log.warning("jwks_fetch_failed", url=self._jwks_url, error=type(exc).__name__)


def _parse_jwks(document: dict[str, Any]) -> dict[str, jwt.PyJWK]:
    keys = {}
    for entry in document.get("keys", ()):
        if entry.get("kid") and entry.get("kty") == "OKP":
            keys[entry["kid"]] = jwt.PyJWK(entry, algorithm=TOKEN_ALGORITHM)
    return keys


IDENTITY: web.RequestKey[Identity | None] = web.RequestKey("identity")
INVALID_TOKEN = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
# Redis failures while checking client tokens, logged at most once per interval.
_UNCHECKED_CLIENTS = revoked_clients.UncheckedLog()

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def identity_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Verify a bearer token when one is sent; a bad token is refused, none means anonymous."""
    authorization = request.headers.get("Authorization", "")
    identity: Identity | None = None
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("Use an 'Authorization: Bearer <token>' header.")
        try:
            identity = await request.app[TOKEN_VERIFIER].verify(token.strip())
        except jwt.PyJWTError:
            raise Unauthenticated(
                "The token is invalid or expired.", headers=dict(INVALID_TOKEN)
            ) from None
        if identity.role == "service":
            await _refuse_revoked_client(request, identity)
    request[IDENTITY] = identity
    return await handler(request)


async def _refuse_revoked_client(request: web.Request, identity: Identity) -> None:
    """401 when auth marked the token's API client revoked (one Redis `EXISTS`, for client
    tokens only). Redis down lets the token through: its signature and expiry still hold."""
    client_id = revoked_clients.client_of(identity.subject)
    redis = request.app.get(REDIS)
    if client_id is None or redis is None:
        return
    try:
        revoked = await revoked_clients.is_revoked(redis, client_id)
    except (RedisError, OSError) as exc:
        _UNCHECKED_CLIENTS.report(exc)
        return
    if revoked:
        raise Unauthenticated("This API client has been revoked.", headers=dict(INVALID_TOKEN))


def caller(request: web.Request) -> Identity:
    """The verified caller, or 401."""
    identity = request.get(IDENTITY)
    if not isinstance(identity, Identity):
        raise Unauthenticated("Sign in first.", headers={"WWW-Authenticate": "Bearer"})
    return identity


def require_staff(request: web.Request) -> Identity:
    """The caller when it is staff, 403 otherwise."""
    identity = caller(request)
    if identity.role != "staff":
        raise Forbidden("This operation is reserved to the structure's staff.")
    return identity


def require_scope(request: web.Request, scope: str) -> Identity:
    """Staff, or a municipal system holding `scope` (`<service>:write` includes
    `<service>:read`: what a system may change, it may read); 403 otherwise."""
    identity = caller(request)
    if identity.role == "staff" or (identity.role == "service" and holds(identity, scope)):
        return identity
    raise Forbidden(f"This operation needs the '{scope}' scope.")


def holds(identity: Identity, scope: str) -> bool:
    """Whether a token's scopes grant `scope`, a write scope granting its service's read."""
    service, _, access = scope.partition(":")
    return scope in identity.scopes or (access == "read" and f"{service}:write" in identity.scopes)


def require_family(request: web.Request, family_id: str, right: str | None = None) -> Identity:
    """The caller when it may act on `family_id` (staff always may).

    A family that is not the caller's answers 404, exactly like one that does not exist:
    a foreign id must not be distinguishable from a missing one. A municipal system gets 403
    whatever the id (the route is not for it, which tells nothing about the family), with
    RFC 6750's `insufficient_scope` so that its integrators see why at once.
    """
    identity = caller(request)
    if identity.role == "staff":
        return identity
    if identity.role == "service":
        raise Forbidden(
            "This operation is for the family's own account or the structure's staff;"
            " municipal systems use the staff-wide reads their scopes allow.",
            headers={"WWW-Authenticate": 'Bearer error="insufficient_scope"'},
        )
    membership = identity.membership(family_id)
    if identity.role != "family" or membership is None:
        raise NotFound("No such family.")
    if right is not None and right not in membership.rights:
        raise Forbidden(f"Your account may not do this for this family ({right}).")
    return identity
