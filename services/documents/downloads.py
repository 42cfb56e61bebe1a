"""Serving a stored file: always an attachment, never sniffed, never run by the browser."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from aiohttp import web

from .storage import Storage

_NOT_PLAIN = re.compile(r"[^A-Za-z0-9._() -]+")

# The file is data to save, not a page: no sniffing, no scripts, no plugins, no framing.
DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "Cache-Control": "private, no-store",
    "Cross-Origin-Resource-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def content_disposition(name: str) -> str:
    """`attachment` with an ASCII `filename` fallback and the exact name in `filename*`.

    RFC 6266 / RFC 8187: `filename*` is percent-encoded UTF-8, so quotes, semicolons or line
    breaks in a name can never end the header or add another one.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    fallback = _NOT_PLAIN.sub("_", ascii_name).strip(" .") or "document"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


async def stream_object(
    request: web.Request, storage: Storage, *, key: str, name: str, content_type: str
) -> web.StreamResponse:
    """Stream the object to the client chunk by chunk, with the download headers."""
    length, chunks = await storage.stream(key)
    response = web.StreamResponse(
        headers={
            **DOWNLOAD_HEADERS,
            "Content-Type": content_type,
            "Content-Disposition": content_disposition(name),
        }
    )
    response.content_length = length
    try:
        await response.prepare(request)
        async for chunk in chunks:
            await response.write(chunk)
        await response.write_eof()
    finally:
        await chunks.aclose()  # type: ignore[attr-defined]  # closes the S3 body early
    return response
