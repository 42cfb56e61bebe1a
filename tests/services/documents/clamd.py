"""A real clamd (Debian's `clamav-daemon`) for the tests, with a signature database of its own.

The official signatures cannot be downloaded here, and would take a minute and a gigabyte to
load: clamd starts just as well with a tiny database, written next to its configuration. It
detects the EICAR test string anywhere in a file (an .ndb body signature, so inside a PDF
too) and the EICAR test file itself (an .hdb hash). clamd names them `<name>.UNOFFICIAL`.
"""

from __future__ import annotations

import hashlib
import socket
import subprocess
import time
from pathlib import Path

from tests.support import free_port

from .files import EICAR

CLAMD = Path("/usr/sbin/clamd")
SIGNATURE = "Portail.Test.EICAR"
NOT_INSTALLED = f"{CLAMD} not found: apt-get install clamav-daemon"
# The machine running the tests may be busy: clamd loads its two signatures in well under a
# second when it is not.
START_TIMEOUT_SECONDS = 60.0


class RealClamd:
    """clamd listening on 127.0.0.1:`port`; stopped and started again on the same port."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.log = directory / "clamd.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._verdicts_seen = 0
        (directory / "portail-test.ndb").write_text(f"{SIGNATURE}:0:*:{EICAR.hex()}\n")
        md5 = hashlib.md5(EICAR).hexdigest()
        (directory / "portail-test.hdb").write_text(f"{md5}:{len(EICAR)}:{SIGNATURE}.File\n")
        # No `User` line (Debian's own configuration has `User clamav`): clamd stays whoever
        # starts it, root in CI, and reads the database it was just given.
        (directory / "clamd.conf").write_text(
            f"TCPSocket {self.port}\n"
            "TCPAddr 127.0.0.1\n"
            "Foreground yes\n"
            f"DatabaseDirectory {directory}\n"
            f"LogFile {self.log}\n"
            # Every verdict in the log, clean ones too: what the tests read as "scanned".
            "LogClean yes\n"
        )

    @property
    def running(self) -> bool:
        """Whether this clamd process is alive."""
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        """Start clamd and return once it answers PING."""
        if self.running:
            return
        output = (self.directory / "clamd.out").open("ab")
        self.process = subprocess.Popen(
            [str(CLAMD), f"--config-file={self.directory / 'clamd.conf'}"],
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        output.close()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self._answers_ping():
            if not self.running:
                raise RuntimeError(f"clamd exited at start: see {self.directory / 'clamd.out'}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"clamd did not answer within {START_TIMEOUT_SECONDS:.0f} s")
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop clamd: the next scans find nobody listening (connection refused)."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def verdicts(self) -> list[str]:
        """What clamd answered to each stream since `forget_verdicts` (`OK`, `<name> FOUND`)."""
        return self._logged_verdicts()[self._verdicts_seen :]

    def forget_verdicts(self, *, quiet_seconds: float = 0.3, at_most: float = 3.0) -> None:
        """Start counting verdicts afresh (one daemon serves every test of the run), once the
        log has been quiet for `quiet_seconds`: a scan a test before left in flight (its
        app torn down mid-upload) was logged after the count and taken for this test's."""
        seen, quiet_since, deadline = -1, time.monotonic(), time.monotonic() + at_most
        while time.monotonic() < deadline:
            count = len(self._logged_verdicts())
            if count != seen:
                seen, quiet_since = count, time.monotonic()
            elif time.monotonic() - quiet_since >= quiet_seconds:
                break
            time.sleep(0.05)
        self._verdicts_seen = seen

    def _logged_verdicts(self) -> list[str]:
        if not self.log.exists():
            return []
        lines = self.log.read_text(encoding="utf-8", errors="replace").splitlines()
        return [line.split(": ", 1)[1] for line in lines if line.startswith("instream(")]

    def _answers_ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as connection:
                connection.sendall(b"zPING\0")
                return connection.recv(16) == b"PONG\0"
        except OSError:
            return False
