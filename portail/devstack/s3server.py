"""An S3-compatible endpoint for the dev profile that keeps its objects across restarts.

moto's S3 (the same engine the tests use) answers the requests; moto keeps everything in
memory, so after every request that changes something this process writes a snapshot of
moto's S3 state to `<dir>/state.pickle` (atomically) before answering, and reads it back at
start. The snapshot is written before the client gets its answer: an upload that was
acknowledged survives a restart or a `kill -9`. The cost is one snapshot per write, in
proportion to what is stored: right for the few files of a developer's portal, not a store
for volumes (prod uses real S3).

Run: `python -m portail.devstack.s3server --port 19000 --dir var/s3`.
"""

from __future__ import annotations

import argparse
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from types import FrameType
from typing import Any

SNAPSHOT_NAME = "state.pickle"
# Not a possible bucket name (no "_" in bucket names), so it cannot shadow one.
HEALTH_PATH = "/_portail/health"
_READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class SnapshotStore:
    """moto's S3 backends, saved to and restored from one file."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / SNAPSHOT_NAME
        directory.mkdir(parents=True, exist_ok=True)
        # Mutations are serialised so that a snapshot never sees a half-applied change.
        self.lock = threading.Lock()

    @staticmethod
    def _backends() -> Any:
        from moto.s3.models import s3_backends

        return s3_backends

    def restore(self) -> int:
        """Load the last snapshot into moto; returns the number of buckets restored."""
        if not self.path.exists():
            return 0
        try:
            with self.path.open("rb") as handle:
                state = pickle.load(handle)  # noqa: S301 - our own file, see module docstring
        except Exception as exc:
            # A snapshot from an incompatible moto version: keep it aside, start empty, say so.
            aside = self.path.with_suffix(".unreadable")
            os.replace(self.path, aside)
            print(f"s3: snapshot unreadable ({exc!r}), moved to {aside}", file=sys.stderr)
            return 0
        backends = self._backends()
        buckets = 0
        for account_id, partitions in state["backends"].items():
            for partition, backend in partitions.items():
                backends[account_id][partition] = backend
                buckets += len(backend.buckets)
        return buckets

    def save(self) -> None:
        """Write the current state atomically (temporary file, fsync, rename)."""
        backends = self._backends()
        state = {
            "backends": {
                account_id: dict(partitions.items()) for account_id, partitions in backends.items()
            }
        }
        temporary = self.path.with_suffix(".tmp")
        with temporary.open("wb") as handle:
            pickle.dump(state, handle, protocol=pickle.HIGHEST_PROTOCOL)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)


def persistent(app: WsgiApp, store: SnapshotStore) -> WsgiApp:
    """Wrap moto's WSGI app: every changing request is applied, then saved, then answered."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH:
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]
        if environ.get("REQUEST_METHOD", "GET") in _READ_ONLY_METHODS:
            return app(environ, start_response)
        with store.lock:
            # moto builds the whole response inside the call, so the change is done here.
            body = list(app(environ, start_response))
            try:
                store.save()
            except Exception as exc:
                print(f"s3: snapshot failed: {exc!r}", file=sys.stderr)
        return body

    return wrapped


def create_app(directory: Path) -> WsgiApp:
    """moto's S3 application with its state restored from and saved to `directory`."""
    from moto.moto_server.werkzeug_app import create_backend_app

    store = SnapshotStore(directory)
    buckets = store.restore()
    print(f"s3: {buckets} bucket(s) restored from {store.path}", flush=True)
    return persistent(create_backend_app("s3"), store)


def main(argv: list[str] | None = None) -> None:
    """Serve until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=19000)
    parser.add_argument("--dir", type=Path, default=Path("var/s3"))
    args = parser.parse_args(argv)

    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    server = make_server(
        args.host,
        args.port,
        create_app(args.dir),
        threaded=True,
        request_handler=MotoRequestHandler,
    )

    def stop(_signum: int, _frame: FrameType | None) -> None:
        # shutdown() waits for the serving loop, so it cannot run on the loop's own thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"s3: listening on http://{args.host}:{args.port}", flush=True)
    server.serve_forever()
    server.server_close()
    print("s3: stopped", flush=True)


if __name__ == "__main__":
    main()
