"""A fake clamd: a tiny asyncio TCP server speaking the INSTREAM protocol."""

from __future__ import annotations

import asyncio
import struct


class FakeClamd:
    """Answers `stream: OK` or `stream: <signature> FOUND`; can be stopped to be unreachable."""

    def __init__(self) -> None:
        self.verdict = "OK"
        self.scanned: list[bytes] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        """Listen on a free port (kept across restarts)."""
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening: the next scans find nobody (connection refused)."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            command = await reader.readuntil(b"\0")
            if command == b"zPING\0":
                writer.write(b"PONG\0")
            elif command == b"zINSTREAM\0":
                data = bytearray()
                while True:
                    (length,) = struct.unpack("!I", await reader.readexactly(4))
                    if length == 0:
                        break
                    data += await reader.readexactly(length)
                self.scanned.append(bytes(data))
                if self.verdict == "OK":
                    writer.write(b"stream: OK\0")
                else:
                    writer.write(f"stream: {self.verdict} FOUND\0".encode())
            else:
                writer.write(b"UNKNOWN COMMAND\0")
            await writer.drain()
        finally:
            writer.close()
