"""Refuse to start when a port the dev portal needs is already taken, naming it."""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterable


class PortInUse(Exception):
    """A port is taken; the message says which, for what, in French and English."""

    def __init__(self, taken: list[tuple[str, int]], host: str) -> None:
        self.taken = taken
        lines = [f"  - {host}:{port} ({name})" for name, port in taken]
        message = (
            "Port(s) déjà utilisé(s), le portail ne démarre pas :\n"
            + "\n".join(lines)
            + "\nArrêtez le programme qui l'utilise (`ss -ltnp | grep :PORT`) "
            "ou un `make run` déjà lancé (`make status`).\n"
            "Port(s) already in use, the portal does not start:\n"
            + "\n".join(lines)
            + "\nStop whatever listens there (`ss -ltnp | grep :PORT`) "
            "or a `make run` already running (`make status`)."
        )
        super().__init__(message)


def port_is_free(host: str, port: int) -> bool:
    """Whether a server could listen on host:port now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # Same option as the servers we start, so TIME_WAIT leftovers of a previous run
        # do not count as taken while a real listener does.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def check_ports_free(wanted: Iterable[tuple[str, int]], host: str = "127.0.0.1") -> None:
    """Raise `PortInUse` listing every taken port among `(name, port)` pairs."""
    taken = [(name, port) for name, port in wanted if not port_is_free(host, port)]
    if taken:
        raise PortInUse(taken, host)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on now (for tests and throw-away servers)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
