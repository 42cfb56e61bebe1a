"""Which requests are the API's, for the parts that answer API callers and people differently."""

from __future__ import annotations


def is_api_path(path: str) -> bool:
    """`/api/…` and `/api` itself: a caller who left off the slash still gets the API's answer."""
    return path == "/api" or path.startswith("/api/")
