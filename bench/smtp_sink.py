"""An SMTP server that accepts everything and writes one line per message: time, Message-ID.

    python -m bench.smtp_sink --port 2525 --out /tmp/sink.log

Used by bench/emails.py as a process of its own, so that it never shares an interpreter
(and its GIL) with the clients being measured.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import signal
import time
from typing import IO, Any

from aiosmtpd.smtp import SMTP, Envelope, Session

MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.MULTILINE | re.IGNORECASE)


class Sink:
    """Accept, note the time and the Message-ID, forget the rest."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:
        """aiosmtpd's hook."""
        raw = envelope.original_content or b""
        found = MESSAGE_ID.search(raw)
        message_id = found.group(1).decode() if found else "-"
        self.out.write(f"{time.time():.6f} {message_id}\n")
        self.out.flush()
        return "250 OK"


async def serve(port: int, out_path: str) -> None:
    """Serve until SIGINT/SIGTERM."""
    loop = asyncio.get_running_loop()
    with open(out_path, "w") as out:  # noqa: ASYNC230 (once, before serving)
        handler = Sink(out)
        server = await loop.create_server(lambda: SMTP(handler), "127.0.0.1", port)
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        print("ready", flush=True)
        await stop.wait()
        server.close()
        with contextlib.suppress(Exception):
            await server.wait_closed()


def main(argv: Any = None) -> None:
    """Parse arguments and serve."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.port, args.out))


if __name__ == "__main__":
    main()
