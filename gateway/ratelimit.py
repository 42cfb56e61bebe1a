"""Rate limits counted in Redis: fixed windows per client IP and per identity, one atomic script.

The path → bucket table is data (`rate_limits.yaml`, or `GATEWAY_RATE_LIMITS_FILE`). When Redis
cannot be reached, reads and buckets marked `fail_open` go through (the portal stays usable;
the failure is logged and counted), the others (login, reset, contact) answer 503: they are
the ones that stop password guessing and spam, which must not run unmetered.

A bucket may also set `concurrency`: at most that many of its requests are handled at once
by this gateway process; the others wait in line, in arrival order, for up to
`queue_seconds` (then 503 with Retry-After). The upstream deadline starts once a request
is let through, so an opening-day rush waits in line at the gateway instead of piling up in
the service until the deadline answers 504.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
import yaml
from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.kit.problems import ServiceUnavailable, TooManyRequests

from .clientip import client_ip
from .keys import CACHED_JWT, GATEWAY_SETTINGS, RATE_LIMITER, SESSIONS, UPSTREAM_METRICS

log = structlog.get_logger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
UNLIMITED_PATHS = ("/healthz", "/readyz", "/metrics", "/static/")
STORE_ERROR_LOG_INTERVAL_SECONDS = 10.0

# INCR the first ARGV[2] keys, start each window on its first hit, answer (count, seconds
# left) per key; then the value of the key after them, if one is given (the session's cached
# JWT: read in this call rather than in a second round trip), none when the next key exists
# (auth's mark that the session was revoked).
_COUNT_SCRIPT = """
local window = tonumber(ARGV[1])
local counted = tonumber(ARGV[2])
local result = {}
for index = 1, counted do
  local key = KEYS[index]
  local count = redis.call('INCR', key)
  if count == 1 then redis.call('EXPIRE', key, window) end
  local ttl = redis.call('TTL', key)
  if ttl < 0 then
    redis.call('EXPIRE', key, window)
    ttl = window
  end
  table.insert(result, count)
  table.insert(result, ttl)
end
if #KEYS > counted then
  local value = redis.call('GET', KEYS[counted + 1])
  if #KEYS > counted + 1 and redis.call('EXISTS', KEYS[counted + 2]) == 1 then
    value = false
  end
  table.insert(result, value)
end
return result
"""


@dataclass(frozen=True)
class Bucket:
    """How many requests per window, per IP and per identity; and what to do without Redis."""

    name: str
    window: int
    per_ip: int
    per_identity: int
    fail_open: bool = True
    concurrency: int | None = None
    queue_seconds: float = 20.0


@dataclass(frozen=True)
class Rule:
    """Paths matching `pattern` with one of `methods` are counted in `bucket`."""

    pattern: re.Pattern[str]
    methods: frozenset[str]
    bucket: str


class RateLimitTable:
    """The buckets and the rules that pick one for a request."""

    def __init__(self, buckets: dict[str, Bucket], rules: list[Rule]) -> None:
        if "default" not in buckets:
            raise ValueError("the rate-limit table needs a 'default' bucket")
        unknown = {rule.bucket for rule in rules} - set(buckets)
        if unknown:
            raise ValueError(f"rules name unknown buckets: {', '.join(sorted(unknown))}")
        self.buckets = buckets
        self.rules = rules

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> RateLimitTable:
        """Build the table from its YAML/JSON shape."""
        buckets = {
            name: Bucket(
                name=name,
                window=int(spec["window"]),
                per_ip=int(spec["per_ip"]),
                per_identity=int(spec["per_identity"]),
                fail_open=bool(spec.get("fail_open", True)),
                concurrency=int(spec["concurrency"]) if spec.get("concurrency") else None,
                queue_seconds=float(spec.get("queue_seconds", 20.0)),
            )
            for name, spec in document["buckets"].items()
        }
        rules = [
            Rule(
                pattern=re.compile(spec["pattern"]),
                methods=frozenset(m.upper() for m in spec.get("methods", ("POST",))),
                bucket=spec["bucket"],
            )
            for spec in document.get("rules", ())
        ]
        return cls(buckets, rules)

    @classmethod
    def from_file(cls, path: Path) -> RateLimitTable:
        """Read the table from a YAML file."""
        return cls.from_document(yaml.safe_load(path.read_text(encoding="utf-8")))

    def bucket_for(self, method: str, path: str) -> Bucket:
        """The bucket of the first matching rule, else `default`."""
        for rule in self.rules:
            if method in rule.methods and rule.pattern.search(path):
                return self.buckets[rule.bucket]
        return self.buckets["default"]


@dataclass(frozen=True)
class Verdict:
    """Whether the request may go on, and if not, in how many seconds it may."""

    allowed: bool
    retry_after: int = 0
    read: bytes | None = None  # the value of `hit`'s `also_read` key


class RateLimiter:
    """Counts requests in Redis, atomically (one Lua script per request)."""

    def __init__(self, redis: Redis, table: RateLimitTable, prefix: str = "gw:rl") -> None:
        self.table = table
        self._prefix = prefix
        self._script = redis.register_script(_COUNT_SCRIPT)
        self._last_error_logged = 0.0
        # Buckets with a `concurrency`: their line (this process's, created on first use).
        self._lines: dict[str, asyncio.Semaphore] = {}

    async def handle_in_line(
        self, bucket: Bucket, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        """Run `handler` once one of the bucket's `concurrency` places is free (503 after
        waiting `queue_seconds`); at once for a bucket without one."""
        if bucket.concurrency is None:
            return await handler(request)
        line = self._lines.get(bucket.name)
        if line is None:
            line = self._lines[bucket.name] = asyncio.Semaphore(bucket.concurrency)
        try:
            async with asyncio.timeout(bucket.queue_seconds):
                await line.acquire()
        except TimeoutError:
            request.app[UPSTREAM_METRICS].rate_limited.labels(f"{bucket.name}:queue").inc()
            raise ServiceUnavailable(
                "Many requests are being handled right now; please try again in a moment.",
                headers={"Retry-After": "5"},
            ) from None
        try:
            return await handler(request)
        finally:
            line.release()

    def report_store_error(self, error: Exception) -> None:
        """Log a Redis failure, at most once per interval: an outage must not flood the logs."""
        now = time.monotonic()
        if now - self._last_error_logged >= STORE_ERROR_LOG_INTERVAL_SECONDS:
            self._last_error_logged = now
            log.warning("rate_limit_store_unavailable", error=type(error).__name__)

    async def hit(
        self,
        bucket: Bucket,
        ip: str,
        identity: str | None,
        *,
        also_read: tuple[str, ...] = (),
    ) -> Verdict:
        """Count one request of `ip` (and `identity`) in `bucket`, and read the value of
        `also_read`'s first key in the same call — none if its second key (a revocation
        mark) exists; raises `RedisError`."""
        keys = [f"{self._prefix}:{bucket.name}:ip:{ip}"]
        limits = [bucket.per_ip]
        if identity is not None:
            keys.append(f"{self._prefix}:{bucket.name}:id:{identity}")
            limits.append(bucket.per_identity)
        counted = len(keys)
        keys.extend(also_read)
        answer = await self._script(keys=keys, args=[bucket.window, counted])
        retry_after = 0
        for index, limit in enumerate(limits):
            count, ttl = int(answer[2 * index]), int(answer[2 * index + 1])
            if count > limit:
                retry_after = max(retry_after, max(ttl, 1))
        read = answer[2 * counted] if also_read and len(answer) > 2 * counted else None
        return Verdict(allowed=retry_after == 0, retry_after=retry_after, read=read)


def identity_key(request: web.Request) -> str | None:
    """A stable, non-secret key for the caller: a hash of its session cookie or bearer token."""
    cookie = request.cookies.get(request.app[GATEWAY_SETTINGS].session_cookie_name)
    secret = cookie or request.headers.get("Authorization", "").partition(" ")[2]
    if not secret:
        return None
    return hashlib.sha256(secret.encode()).hexdigest()[:32]


@web.middleware
async def rate_limit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """429 with Retry-After when the caller's bucket is full."""
    if request.path.startswith(UNLIMITED_PATHS):
        return await handler(request)
    limiter = request.app[RATE_LIMITER]
    bucket = limiter.table.bucket_for(request.method, request.path)
    # A browser's session: its cached JWT comes back with the counts (one Redis round trip
    # per request instead of two); the session middleware then does not ask again.
    cookie = request.cookies.get(request.app[GATEWAY_SETTINGS].session_cookie_name)
    sessions = request.app.get(SESSIONS) if cookie else None
    cache_keys = sessions.cache_keys(cookie) if sessions is not None and cookie else ()
    try:
        verdict = await limiter.hit(
            bucket, client_ip(request), identity_key(request), also_read=cache_keys
        )
    except (RedisError, OSError) as exc:
        request.app[UPSTREAM_METRICS].rate_limit_errors.inc()
        limiter.report_store_error(exc)
        if request.method in SAFE_METHODS or bucket.fail_open:
            return await limiter.handle_in_line(bucket, request, handler)
        raise ServiceUnavailable(
            "This action is briefly unavailable; please try again in a moment.",
            headers={"Retry-After": "5"},
        ) from None
    if cache_keys:
        request[CACHED_JWT] = verdict.read
    if not verdict.allowed:
        request.app[UPSTREAM_METRICS].rate_limited.labels(bucket.name).inc()
        raise TooManyRequests(
            f"Too many requests; try again in {verdict.retry_after} seconds.",
            headers={"Retry-After": str(verdict.retry_after)},
        )
    return await limiter.handle_in_line(bucket, request, handler)
