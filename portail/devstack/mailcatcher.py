"""The dev profile's SMTP catcher: accepts every message, stores it, shows it in a web inbox.

Run: `python -m portail.devstack.mailcatcher --smtp-port 11025 --http-port 8025 --dir var/mail`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from pathlib import Path
from typing import Any

from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session

from .inbox import create_inbox_app
from .mailstore import MailStore

MAX_MESSAGE_BYTES = 25 * 1024 * 1024


class StoringHandler:
    """aiosmtpd handler: every accepted message goes to the store."""

    def __init__(self, store: MailStore) -> None:
        self.store = store

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:
        """Store the message as received (bytes, not re-encoded)."""
        raw = envelope.original_content or b""
        message_id = await asyncio.to_thread(
            self.store.save,
            raw,
            envelope_from=str(envelope.mail_from or ""),
            envelope_to=[str(r) for r in envelope.rcpt_tos],
        )
        print(f"mail: stored {message_id} for {', '.join(envelope.rcpt_tos)}", flush=True)
        return "250 Message accepted for delivery"


class MailCatcher:
    """An SMTP server and the inbox web app, on one event loop."""

    def __init__(
        self, directory: Path, *, host: str = "127.0.0.1", smtp_port: int, http_port: int
    ) -> None:
        self.store = MailStore(directory)
        self.host = host
        self.smtp_port = smtp_port
        self.http_port = http_port
        self._smtp: asyncio.Server | None = None
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen on both ports."""
        loop = asyncio.get_running_loop()
        handler = StoringHandler(self.store)

        def protocol() -> Any:
            return SMTP(
                handler,
                hostname="portail-dev",
                data_size_limit=MAX_MESSAGE_BYTES,
                enable_SMTPUTF8=True,
                decode_data=False,
            )

        self._smtp = await loop.create_server(protocol, self.host, self.smtp_port)
        self._runner = web.AppRunner(create_inbox_app(self.store), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.http_port).start()

    async def stop(self) -> None:
        """Close both servers."""
        smtp, runner, self._smtp, self._runner = self._smtp, self._runner, None, None
        if smtp is not None:
            smtp.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(smtp.wait_closed(), 2)
        if runner is not None:
            await runner.cleanup()


async def _serve(args: argparse.Namespace) -> None:
    catcher = MailCatcher(
        args.dir, host=args.host, smtp_port=args.smtp_port, http_port=args.http_port
    )
    await catcher.start()
    print(
        f"mail: SMTP on {args.host}:{args.smtp_port}, inbox on http://{args.host}:{args.http_port}/",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await catcher.stop()
    print("mail: stopped", flush=True)


def main(argv: list[str] | None = None) -> None:
    """Serve until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(description="SMTP catcher and inbox of the dev profile")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=11025)
    parser.add_argument("--http-port", type=int, default=8025)
    parser.add_argument("--dir", type=Path, default=Path("var/mail"))
    asyncio.run(_serve(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
