"""A clamd client speaking INSTREAM over TCP; any doubt is "not scanned", never "clean"."""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass

CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class Verdict:
    """What clamd said: clean, or infected with the signature's name."""

    clean: bool
    signature: str = ""


class ScanUnavailable(Exception):
    """clamd could not give a verdict (unreachable, timeout, error): the file stays unseen."""


class Clamd:
    """Scans bytes with a clamd daemon at `host:port`."""

    def __init__(self, host: str, port: int, *, timeout: float) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout

    async def scan(self, data: bytes) -> Verdict:
        """The verdict on `data`, or `ScanUnavailable`."""
        try:
            return await asyncio.wait_for(self._scan(data), self.timeout)
        except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
            raise ScanUnavailable(f"clamd {self.host}:{self.port}: {type(exc).__name__}") from None

    async def _scan(self, data: bytes) -> Verdict:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            # "z" prefix: null-terminated command and reply, the form clamd documents.
            writer.write(b"zINSTREAM\0")
            for start in range(0, len(data), CHUNK_BYTES):
                chunk = data[start : start + CHUNK_BYTES]
                writer.write(struct.pack("!I", len(chunk)) + chunk)
                await writer.drain()
            writer.write(struct.pack("!I", 0))
            await writer.drain()
            reply = (await reader.readuntil(b"\0")).rstrip(b"\0").decode("utf-8", "replace")
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass
        return parse_reply(reply)

    async def ping(self) -> None:
        """Raise unless clamd answers PONG (readiness)."""
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            writer.write(b"zPING\0")
            await writer.drain()
            if (await reader.readuntil(b"\0")).rstrip(b"\0") != b"PONG":
                raise ScanUnavailable("clamd did not answer PONG")
        finally:
            writer.close()


def parse_reply(reply: str) -> Verdict:
    """`stream: OK` is clean, `stream: <name> FOUND` infected; anything else is no verdict."""
    _, _, status = reply.partition(": ")
    if status == "OK":
        return Verdict(clean=True)
    if status.endswith(" FOUND"):
        return Verdict(clean=False, signature=status.removesuffix(" FOUND"))
    raise ScanUnavailable(f"clamd answered {reply[:120]!r}")
