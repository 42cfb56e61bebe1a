"""The browser session: its cookie is exchanged for a short-lived JWT the services verify.

Contract with the auth service:
- `POST /sessions` {email, password, totp_code?} → 201 {session_token, token, expires_in};
- `POST /sessions/refresh` with `X-Session-Token` → 200 {token, expires_in}, or 401;
- `DELETE /sessions/current` with `X-Session-Token` → 204.

The JWT is cached in Redis per session (keyed by a hash of the session token, never the token
itself) for min(expires_in − 30 s, `jwt_cache_max_seconds`), so most requests cost no call
to auth. A session auth revokes is marked in Redis under the same hash
(services/kit/revoked_sessions.py) and read with the cached JWT: the next request asks auth,
which refuses it; without the mark (Redis lost it) the cache's delay is the bound. The rate
limiter reads the cached JWT in its own Redis call (`CACHED_JWT`): a signed-in request costs
one Redis round trip, not two.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import jwt
import structlog
from aiohttp import ClientError, ClientSession, ClientTimeout, web
from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.kit.identity import Identity, TokenVerifier
from services.kit.problems import Forbidden, ServiceUnavailable
from services.kit.revoked_sessions import revoked_key

from .cookies import add_cookie_header
from .keys import CACHED_JWT, GATEWAY_SETTINGS, SESSION, SESSIONS

log = structlog.get_logger(__name__)

SESSION_TOKEN_HEADER = "X-Session-Token"  # noqa: S105 (a header name)
EXPIRY_MARGIN_SECONDS = 30
# Paths that never need to know who is calling (and must work while auth is down).
ANONYMOUS_PATHS = ("/static/", "/healthz", "/readyz", "/metrics")


class NotRead:
    """The session cache was not read yet (its value may be None: not cached)."""


NOT_READ = NotRead()


@dataclass
class SessionState:
    """The session of this request: its token, and its JWT (None when auth refused it)."""

    token: str
    jwt: str | None
    identity: Identity | None = None
    identity_checked: bool = False

    @property
    def expired(self) -> bool:
        """Auth no longer knows this session: the cookie must go."""
        return self.jwt is None


@dataclass(frozen=True)
class SignedIn:
    """What auth answers to a successful sign-in."""

    session_token: str
    jwt: str
    expires_in: int


class SignInRefused(Exception):
    """Auth refused the sign-in (wrong credentials, code needed, throttled…)."""

    def __init__(self, status: int, problem: dict[str, Any], retry_after: str | None) -> None:
        super().__init__(problem.get("detail", "refused"))
        self.status = status
        self.problem = problem
        self.retry_after = retry_after


class SessionExchange:
    """Signs in and out through auth, and turns a session token into a (cached) JWT."""

    def __init__(
        self,
        *,
        auth_url: str,
        redis: Redis,
        http: Callable[[], ClientSession],
        verifier: TokenVerifier,
        deadline_seconds: float,
        cache_max_seconds: int,
        cache_prefix: str = "gw:jwt",
    ) -> None:
        self._auth_url = auth_url.rstrip("/")
        self._redis = redis
        self._http = http
        self._verifier = verifier
        self._timeout = ClientTimeout(total=deadline_seconds)
        self._cache_max_seconds = cache_max_seconds
        self._cache_prefix = cache_prefix

    def cache_key(self, session_token: str) -> str:
        """The Redis key of this session's cached JWT (a hash: never the token itself)."""
        return f"{self._cache_prefix}:{_hash(session_token)}"

    def cache_keys(self, session_token: str) -> tuple[str, str]:
        """The keys to read for a cached JWT: the JWT's, and auth's mark of the session's
        revocation (the JWT is not used when it is marked)."""
        return self.cache_key(session_token), revoked_key(_hash(session_token))

    async def sign_in(
        self, email: str, password: str, totp_code: str | None = None, *, client_ip: str
    ) -> SignedIn:
        """Open a session; `SignInRefused` with auth's problem when it says no."""
        body: dict[str, str] = {"email": email, "password": password}
        if totp_code:
            body["totp_code"] = totp_code
        # Auth throttles guessing per IP: it must see the browser's address, not ours.
        headers = {"X-Forwarded-For": client_ip}
        document = await self._call("POST", "/sessions", json=body, headers=headers, expect=201)
        signed_in = SignedIn(
            session_token=str(document["session_token"]),
            jwt=str(document["token"]),
            expires_in=int(document["expires_in"]),
        )
        await self._remember(signed_in.session_token, signed_in.jwt, signed_in.expires_in)
        return signed_in

    async def token_for(
        self, session_token: str, *, cached: bytes | str | NotRead | None = NOT_READ
    ) -> str | None:
        """The JWT of this session, from the cache or from auth; None if auth refuses it.

        `cached`: the cache's value when the caller already read it (the rate limiter does,
        in its own Redis call).
        """
        if isinstance(cached, NotRead):
            try:
                cached, revoked = await self._redis.mget(self.cache_keys(session_token))
                cached = None if revoked else cached
            except RedisError as exc:
                # Without the cache every request asks auth: slower, still correct.
                log.warning("session_cache_unavailable", error=type(exc).__name__)
                cached = None
        if cached:
            return cached.decode() if isinstance(cached, bytes) else str(cached)
        try:
            document = await self._call(
                "POST", "/sessions/refresh", headers={SESSION_TOKEN_HEADER: session_token}
            )
        except SignInRefused as refused:
            if refused.status in (401, 403, 404):
                return None
            raise ServiceUnavailable("The sign-in service gave an unexpected answer.") from None
        token = str(document["token"])
        await self._remember(session_token, token, int(document["expires_in"]))
        return token

    async def sign_out(self, session_token: str) -> None:
        """Revoke the session at auth and forget its cached JWT."""
        try:
            await self._redis.delete(self.cache_key(session_token))
        except RedisError as exc:
            log.warning("session_cache_unavailable", error=type(exc).__name__)
        try:
            await self._call(
                "DELETE",
                "/sessions/current",
                headers={SESSION_TOKEN_HEADER: session_token},
                expect=204,
            )
        except SignInRefused:
            pass  # already gone: signing out is done either way

    async def identity(self, token: str) -> Identity | None:
        """The verified identity in a JWT, or None (the services verify it again anyway)."""
        try:
            return await self._verifier.verify(token)
        except jwt.PyJWTError as exc:
            log.warning("session_token_rejected", error=type(exc).__name__)
            return None

    async def _remember(self, session_token: str, token: str, expires_in: int) -> None:
        ttl = min(expires_in - EXPIRY_MARGIN_SECONDS, self._cache_max_seconds)
        if ttl <= 0:
            return
        try:
            await self._redis.set(self.cache_key(session_token), token, ex=ttl)
        except RedisError as exc:
            log.warning("session_cache_unavailable", error=type(exc).__name__)

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        expect: int = 200,
    ) -> dict[str, Any]:
        try:
            async with self._http().request(
                method, self._auth_url + path, json=json, headers=headers, timeout=self._timeout
            ) as response:
                if response.status == expect:
                    return await response.json() if response.status != 204 else {}
                if response.status >= 500:
                    raise ServiceUnavailable("The sign-in service is unavailable.")
                try:
                    problem = await response.json(content_type=None)
                except ValueError:
                    problem = {}
                raise SignInRefused(
                    response.status,
                    problem if isinstance(problem, dict) else {},
                    response.headers.get("Retry-After"),
                )
        except (ClientError, TimeoutError):
            raise ServiceUnavailable("The sign-in service cannot be reached.") from None


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _hash(session_token: str) -> str:
    # The key auth stores sessions by, and marks their revocation under.
    return hashlib.sha256(session_token.encode()).hexdigest()


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Exchange the session cookie for a JWT before anything that needs to know the caller."""
    request[SESSION] = None
    if not request.path.startswith(ANONYMOUS_PATHS):
        cookie = request.cookies.get(request.app[GATEWAY_SETTINGS].session_cookie_name)
        if cookie:
            cached = request.get(CACHED_JWT, NOT_READ)
            token = await request.app[SESSIONS].token_for(cookie, cached=cached)
            request[SESSION] = SessionState(token=cookie, jwt=token)
    return await handler(request)


async def forget_expired_session(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: a session auth refused loses its cookie, on any response."""
    session = request.get(SESSION)
    settings = request.app[GATEWAY_SETTINGS]
    # A response that sets a new session (sign-in) keeps it.
    name = settings.session_cookie_name
    if session is not None and session.expired and name not in response.cookies:
        add_cookie_header(
            response,
            name,
            "",
            path="/",
            secure=settings.secure_cookies,
            httponly=True,
            samesite="Lax",
        )


def set_session_cookie(request: web.Request, response: web.StreamResponse, value: str) -> None:
    """HttpOnly (no script reads it), SameSite=Lax (no cross-site POST carries it, links from
    e-mails still land signed in), Secure and `__Host-` when served over https."""
    settings = request.app[GATEWAY_SETTINGS]
    response.set_cookie(
        settings.session_cookie_name,
        value,
        path="/",
        httponly=True,
        secure=settings.secure_cookies,
        samesite="Lax",
    )


def delete_session_cookie(request: web.Request, response: web.StreamResponse) -> None:
    """Remove the session cookie (same attributes, or browsers keep the `__Host-` one)."""
    settings = request.app[GATEWAY_SETTINGS]
    response.del_cookie(
        settings.session_cookie_name,
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="Lax",
    )


async def require_signed_in(request: web.Request) -> Identity:
    """The signed-in visitor, or a redirect to `/connexion` that comes back here after."""
    identity = await current_identity(request)
    if identity is None:
        raise web.HTTPSeeOther("/connexion?" + urlencode({"suite": request.path_qs}))
    return identity


async def require_staff_page(request: web.Request) -> Identity:
    """The signed-in visitor when staff; 403 (the French error page) for anyone else."""
    identity = await require_signed_in(request)
    if identity.role != "staff":
        raise Forbidden("Cette page est réservée aux agents de la structure.")
    return identity


async def current_claims(request: web.Request) -> dict[str, Any]:
    """All the claims of the signed-in visitor's token (e.g. a display name), {} when signed out.

    Only returned once the token has been verified: templates never show an unverified claim.
    """
    identity = await current_identity(request)
    session: SessionState | None = request.get(SESSION)
    if identity is None or session is None or session.jwt is None:
        return {}
    claims: dict[str, Any] = jwt.decode(session.jwt, options={"verify_signature": False})
    return claims


async def current_identity(request: web.Request) -> Identity | None:
    """Who is signed in on this request (pages use it; verified once per request)."""
    session: SessionState | None = request.get(SESSION)
    if session is None or session.jwt is None:
        return None
    if not session.identity_checked:
        session.identity = await request.app[SESSIONS].identity(session.jwt)
        session.identity_checked = True
        if session.identity is None:
            # A token we cannot verify is no session: drop it (and its cookie) rather than
            # send the visitor between the sign-in page and the page asked, forever.
            session.jwt = None
    return session.identity
