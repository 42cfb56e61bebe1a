"""The client's address, trusting X-Forwarded-For only as far as our own proxies go."""

from __future__ import annotations

from aiohttp import web

from .keys import GATEWAY_SETTINGS


def client_ip(request: web.Request) -> str:
    """The peer address, or the address our `trusted_proxy_hops` proxies saw.

    Each trusted proxy appends the address it received from, so the client is the entry
    `hops` places from the right; anything further left was written by the client itself.
    """
    hops = request.app[GATEWAY_SETTINGS].trusted_proxy_hops
    peer = request.remote or "unknown"
    if hops == 0:
        return peer
    chain = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",")]
    chain = [part for part in chain if part]
    if len(chain) < hops:
        return chain[0] if chain else peer
    return chain[-hops]
