"""`/api/<service>/<rest>` → `<SERVICE>_SERVICE_URL/<rest>`: streamed, bounded in time, guarded.

Every call has one deadline from the first byte sent to the response headers (retries
included); the body is then streamed back with the same deadline between two reads. A body
sent to an upload path gets the longer upload deadline instead: sending a few MB from a
phone takes longer than any service should take to answer. Only
GET/HEAD without a body are retried, and only when the connection could not be opened: such
a request never reached the service, so repeating it cannot repeat a side effect.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping

import structlog
from aiohttp import (
    ClientConnectorError,
    ClientError,
    ClientResponse,
    ClientTimeout,
    StreamReader,
    web,
)
from multidict import CIMultiDict
from yarl import URL

from services.kit.context import REQUEST_ID_HEADER, current_request_id
from services.kit.problems import (
    PROBLEM_CONTENT_TYPE,
    BadGateway,
    GatewayTimeout,
    NotFound,
    PayloadTooLarge,
    Problem,
    ServiceUnavailable,
)

from .bodylimit import body_limit_of, is_upload_path
from .breaker import CircuitBreaker
from .clientip import client_ip
from .keys import BREAKERS, GATEWAY_SETTINGS, SESSION, UPSTREAM_CLIENT, UPSTREAM_METRICS
from .paths import is_navigation
from .upstream_metrics import UpstreamMetrics

log = structlog.get_logger(__name__)

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
# Never sent upstream: the host is the service's own; the browser's cookies stay here (the
# service gets a token instead); forwarding headers are rebuilt by us; and no header that
# claims an identity is ever relayed from a client.
DROPPED_REQUEST_HEADERS = frozenset(
    {"host", "cookie", "forwarded", "x-real-ip", "x-csrf-token", REQUEST_ID_HEADER.lower()}
)
IDENTITY_HEADER_PREFIXES = (
    "x-forwarded-",
    "x-identity",
    "x-user",
    "x-auth",
    "x-remote-",
    "remote-user",
)
# A service does not set cookies on the portal's domain; the gateway alone owns them.
DROPPED_RESPONSE_HEADERS = frozenset({"set-cookie", "server", "date"})
SAFE_METHODS = frozenset({"GET", "HEAD"})
CHUNK_SIZE = 64 * 1024
# Answers up to this size (with a declared length) are read whole, then sent in one write.
BUFFERED_RESPONSE_BYTES = 256 * 1024


class StreamAborted(Exception):
    """The upstream body broke after our headers were sent: the connection must be cut."""


# A service's probes and Prometheus metrics are the cluster's (the kubelet and Prometheus call
# the pod itself), never the public's: the metrics tell request volumes and failures route by
# route, the readiness what the service depends on.
SERVICE_OPERATIONS = frozenset({"metrics", "readyz", "healthz"})


def _connection_tokens(headers: Mapping[str, str]) -> set[str]:
    # Headers named in `Connection` are hop-by-hop too (RFC 9110 §7.6.1).
    value = headers.get("Connection", "")
    return {token.strip().lower() for token in value.split(",") if token.strip()}


def upstream_request_headers(request: web.Request) -> CIMultiDict[str]:
    """The headers sent to the service: filtered, identity from the session, ids forwarded."""
    named = _connection_tokens(request.headers)
    headers: CIMultiDict[str] = CIMultiDict()
    for name, value in request.headers.items():
        lower = name.lower()
        if (
            lower in HOP_BY_HOP
            or lower in named
            or lower in DROPPED_REQUEST_HEADERS
            or lower.startswith(IDENTITY_HEADER_PREFIXES)
        ):
            continue
        headers.add(name, value)
    session = request.get(SESSION)
    if session is not None:
        # A browser with a session cookie is that session, whatever Authorization it sends.
        headers.popall("Authorization", None)
        if session.jwt:
            headers["Authorization"] = f"Bearer {session.jwt}"
    headers["X-Forwarded-For"] = client_ip(request)
    headers["X-Forwarded-Proto"] = request.app[GATEWAY_SETTINGS].public_base_url.split(":", 1)[0]
    headers["X-Forwarded-Host"] = request.host
    request_id = current_request_id.get()
    if request_id:
        headers[REQUEST_ID_HEADER] = request_id
    return headers


def response_headers(upstream: ClientResponse) -> CIMultiDict[str]:
    """The service's response headers minus hop-by-hop ones and cookies."""
    named = _connection_tokens(upstream.headers)
    headers: CIMultiDict[str] = CIMultiDict()
    for name, value in upstream.headers.items():
        lower = name.lower()
        if lower in HOP_BY_HOP or lower in named or lower in DROPPED_RESPONSE_HEADERS:
            continue
        headers.add(name, value)
    return headers


class LimitedBody:
    """The request body, streamed, cut at `limit` bytes (the upload is never buffered whole)."""

    def __init__(self, content: StreamReader, limit: int) -> None:
        self._content = content
        self.limit = limit
        self.exceeded = False

    async def chunks(self) -> AsyncIterator[bytes]:
        """Yield the body as it arrives; stop the upload when it grows past the limit."""
        received = 0
        async for chunk in self._content.iter_chunked(CHUNK_SIZE):
            received += len(chunk)
            if received > self.limit:
                self.exceeded = True
                raise PayloadTooLarge(f"The request body is larger than {self.limit} bytes.")
            yield chunk


def _has_body(request: web.Request) -> bool:
    return request.body_exists or request.headers.get("Transfer-Encoding", "") != ""


async def proxy(request: web.Request) -> web.StreamResponse:
    """Forward the request to its service and stream the answer back."""
    name = request.match_info["service"]
    settings = request.app[GATEWAY_SETTINGS]
    base = settings.service_urls().get(name)
    if base is None:
        raise NotFound(f"There is no service named '{name}'.")
    # Decoded, as the service will route it (`%6Detrics` is its /metrics).
    if request.match_info["tail"].strip("/") in SERVICE_OPERATIONS:
        raise NotFound("No resource at this address.")
    breaker = request.app[BREAKERS][name]
    metrics = request.app[UPSTREAM_METRICS]
    if not breaker.allow():
        metrics.calls.labels(name, "breaker_open").inc()
        raise ServiceUnavailable(
            f"The {name} service is temporarily unavailable.",
            headers={"Retry-After": str(breaker.retry_after())},
        )
    # The raw (still percent-encoded) path and query: decoding then re-encoding would turn
    # `a%2Fb` into `a/b` and change what the service sees.
    prefix = f"/api/{name}/"
    raw_path = request.rel_url.raw_path
    if not raw_path.startswith(prefix):
        raise NotFound(f"There is no service named '{name}'.")
    url = f"{base}/{raw_path[len(prefix) :]}"
    if request.rel_url.raw_query_string:
        url = f"{url}?{request.rel_url.raw_query_string}"
    upstream = await _call(request, name, url, breaker)
    try:
        return await _stream_back(request, upstream, settings.upstream_deadline_seconds, name)
    finally:
        upstream.release()


async def _call(
    request: web.Request, name: str, url: str, breaker: CircuitBreaker
) -> ClientResponse:
    settings = request.app[GATEWAY_SETTINGS]
    metrics = request.app[UPSTREAM_METRICS]
    body = LimitedBody(request.content, body_limit_of(request)) if _has_body(request) else None
    retries = settings.safe_retries if request.method in SAFE_METHODS and body is None else 0
    deadline = settings.upstream_deadline_seconds
    if body is not None and is_upload_path(request):
        deadline = settings.upload_deadline_seconds
    # sock_read runs while the body is still being sent: it must not be shorter than the call.
    # A down service is known by the TCP connect (sock_connect); waiting for a pooled
    # connection in a burst is normal queueing, bounded by the call's deadline (connect).
    timeout = ClientTimeout(
        total=None,
        connect=deadline,
        sock_connect=settings.upstream_connect_timeout_seconds,
        sock_read=deadline,
    )
    headers = upstream_request_headers(request)
    started = time.perf_counter()
    try:
        async with asyncio.timeout(deadline):
            for attempt in range(retries + 1):
                try:
                    upstream = await request.app[UPSTREAM_CLIENT].request(
                        request.method,
                        URL(url, encoded=True),
                        headers=headers,
                        data=body.chunks() if body is not None else None,
                        timeout=timeout,
                        allow_redirects=False,
                        auto_decompress=False,
                    )
                    break
                except ClientConnectorError:
                    if attempt == retries:
                        raise
                    await asyncio.sleep(0.05 * 2**attempt)
    except (PayloadTooLarge, asyncio.CancelledError):
        # Says nothing about the service: the caller sent too much, or went away.
        breaker.release()
        raise
    except TimeoutError:
        _failed(breaker, metrics, name, "timeout")
        raise GatewayTimeout(
            f"The {name} service did not answer within {deadline:g} seconds."
        ) from None
    except ClientConnectorError:
        _failed(breaker, metrics, name, "unreachable")
        raise BadGateway(f"The {name} service cannot be reached.") from None
    except ClientError as exc:
        if body is not None and body.exceeded:
            breaker.release()
            raise PayloadTooLarge(f"The request body is larger than {body.limit} bytes.") from None
        _failed(breaker, metrics, name, "broken")
        log.warning("upstream_error", service=name, error=type(exc).__name__)
        raise BadGateway(f"The {name} service gave no valid answer.") from None
    except BaseException:
        # Anything else (a bug of ours) says nothing about the service, but must not leave
        # a half-open breaker waiting forever for its probe to report.
        breaker.release()
        raise
    metrics.latency.labels(name).observe(time.perf_counter() - started)
    # A service saying it is unavailable counts against it; its own 500s do not open the
    # circuit (one broken endpoint must not take the whole service off the portal).
    if upstream.status in (502, 503, 504):
        _failed(breaker, metrics, name, str(upstream.status))
    else:
        breaker.record_success()
        metrics.calls.labels(name, f"{upstream.status // 100}xx").inc()
    return upstream


def _failed(breaker: CircuitBreaker, metrics: UpstreamMetrics, name: str, outcome: str) -> None:
    breaker.record_failure()
    metrics.calls.labels(name, outcome).inc()


def _is_problem(upstream: ClientResponse) -> bool:
    return upstream.status >= 400 and upstream.content_type == PROBLEM_CONTENT_TYPE


def _problem_for_a_person(upstream: ClientResponse, name: str) -> Problem:
    """The service's refusal, with its status, for the error page a browser will show:
    its English detail and ids mean nothing to the parent who clicked a link."""
    problem = Problem(f"The {name} service answered {upstream.status}.")
    problem.status = upstream.status
    if "Retry-After" in upstream.headers:
        problem.headers["Retry-After"] = upstream.headers["Retry-After"]
    return problem


async def _stream_back(
    request: web.Request, upstream: ClientResponse, deadline: float, name: str
) -> web.StreamResponse:
    if is_navigation(request) and _is_problem(upstream):
        raise _problem_for_a_person(upstream, name)
    headers = response_headers(upstream)
    length = upstream.content_length
    if request.method != "HEAD" and length is not None and length <= BUFFERED_RESPONSE_BYTES:
        # Most API answers are small JSON: read whole, they leave in one write instead of
        # three (headers, body, end), which is most of a proxied call's cost.
        try:
            body = await upstream.read()
        except (ClientError, TimeoutError) as exc:
            _failed(request.app[BREAKERS][name], request.app[UPSTREAM_METRICS], name, "broken")
            log.warning("upstream_body_broken", service=name, error=type(exc).__name__)
            raise BadGateway(f"The {name} service gave no valid answer.") from None
        headers.popall("Content-Length", None)
        return web.Response(
            status=upstream.status, reason=upstream.reason, body=body, headers=headers
        )
    response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
    response.headers.update(headers)
    await response.prepare(request)
    if request.method == "HEAD":
        return response
    try:
        async for chunk in upstream.content.iter_chunked(CHUNK_SIZE):
            await response.write(chunk)
    except (ClientError, TimeoutError) as exc:
        log.warning("upstream_body_broken", service=name, error=type(exc).__name__)
        raise StreamAborted(name) from exc
    await response.write_eof()
    return response
