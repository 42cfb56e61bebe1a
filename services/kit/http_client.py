"""The one HTTP client a service uses: explicit timeouts, request id forwarded."""

from __future__ import annotations

from aiohttp import ClientHandlerType, ClientRequest, ClientResponse, ClientSession, ClientTimeout

from .context import REQUEST_ID_HEADER, current_request_id


async def _forward_request_id(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
    request_id = current_request_id.get()
    if request_id and REQUEST_ID_HEADER not in request.headers:
        request.headers[REQUEST_ID_HEADER] = request_id
    return await handler(request)


def create_http_client(total_timeout: float, *, connect_timeout: float = 1.0) -> ClientSession:
    """A session whose every call is bounded in time and carries the current request id.

    `connect_timeout` bounds the TCP connection only (`sock_connect`): a host that is down is
    known within it. aiohttp's `connect` would also count the wait for a free pooled
    connection, which a burst of calls on a busy machine exceeds while nothing is wrong;
    that wait stays bounded by `total_timeout`.
    """
    return ClientSession(
        timeout=ClientTimeout(total=total_timeout, sock_connect=connect_timeout),
        middlewares=(_forward_request_id,),
        raise_for_status=False,
    )
