"""Which requests are the API's, for the parts that answer API callers and people differently."""

from __future__ import annotations

from aiohttp.web import Request


def is_api_path(path: str) -> bool:
    """`/api/…` and `/api` itself: a caller who left off the slash still gets the API's answer."""
    return path == "/api" or path.startswith("/api/")


def is_navigation(request: Request) -> bool:
    """A browser opening the address as a page (a link clicked, an address typed).

    Browsers say so with Fetch Metadata; API clients, fetch() and XHR never send these values,
    so they keep the API's answers whatever address they call.
    """
    headers = request.headers
    return (
        headers.get("Sec-Fetch-Mode", "").lower() == "navigate"
        or headers.get("Sec-Fetch-Dest", "").lower() == "document"
    )
