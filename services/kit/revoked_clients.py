"""Revoked API clients, marked in Redis so that every service refuses their tokens at once.

A municipal system's token (client credentials, role `service`, `sub` = `client:<id>`) lives
`AUTH_TOKEN_TTL_SECONDS` (5 minutes) and every service verifies it locally. When an
administrator revokes the client, auth marks it here, `auth:revoked-client:<client id>`, for
that lifetime, before it answers; the kit's identity middleware reads the mark (one `EXISTS`)
for client tokens only — browser and staff tokens cost no Redis call.

Within a request, `note` collects the clients a handler revoked (after its transaction
committed) and auth's `mark_revoked_sessions` middleware writes them before the answer leaves.

If Redis is down the middleware lets client tokens through (their signature and expiry still
hold, so the 5 minutes are the bound, as before) and logs it at most once per interval.
"""

from __future__ import annotations

import time

import structlog

from .revocations import RevocationMarks

KEY_PREFIX = "auth:revoked-client"
CLIENT_SUBJECT_PREFIX = "client:"
UNCHECKED_LOG_INTERVAL_SECONDS = 10.0

log = structlog.get_logger(__name__)

MARKS = RevocationMarks(KEY_PREFIX)

revoked_key = MARKS.key  # (client id) → the Redis key of its mark
start_collecting = MARKS.start_collecting
collected = MARKS.collected
mark = MARKS.mark
is_revoked = MARKS.is_marked


def client_of(subject: str) -> str | None:
    """The API client id a token's `sub` names (`client:<id>`), if it is a client's."""
    if subject.startswith(CLIENT_SUBJECT_PREFIX):
        return subject.removeprefix(CLIENT_SUBJECT_PREFIX) or None
    return None


def note(client_id: str) -> None:
    """Remember a client revoked by the current request, to be marked when it is done."""
    MARKS.note([client_id])


class UncheckedLog:
    """Logs that client tokens went unchecked (Redis down), at most once per interval: an
    outage must not flood the logs with one line per API call."""

    def __init__(self, interval_seconds: float = UNCHECKED_LOG_INTERVAL_SECONDS) -> None:
        self._interval = interval_seconds
        self._last_logged = float("-inf")

    def report(self, error: Exception) -> None:
        """Log `error` unless one was logged within the interval."""
        now = time.monotonic()
        if now - self._last_logged >= self._interval:
            self._last_logged = now
            log.warning("revoked_clients_unchecked", error=type(error).__name__)
