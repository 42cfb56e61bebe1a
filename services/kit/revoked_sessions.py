"""Revoked sessions, marked in Redis so that the gateway stops using their cached JWT at once.

The gateway caches each browser session's JWT for up to a minute (gateway/session.py), so
most requests cost no call to auth. When auth revokes sessions (an account disabled, a
password changed or reset, roles changed, a family login removed), it marks each one here,
under the hash both sides already key sessions by (SHA-256 of the session token, never the
token), for as long as any JWT it signed may live. The gateway reads the mark in the same
Redis call as the cached JWT and, when marked, asks auth again, which refuses the session.

Without Redis the marks are lost and the cache's own minute is the bound, as before.

Within a request, `note` collects the hashes a handler revokes and the auth service's
`mark_revoked_sessions` middleware writes them once the handler is done, before the answer
leaves: whoever sees « compte désactivé » can count on the session being refused
(kit/revocations.py, shared with the API clients' marks).
"""

from __future__ import annotations

from .revocations import RevocationMarks

KEY_PREFIX = "auth:revoked-session"
MARKS = RevocationMarks(KEY_PREFIX)

revoked_key = MARKS.key  # (token hash) → the Redis key of its mark
note = MARKS.note
start_collecting = MARKS.start_collecting
collected = MARKS.collected
mark = MARKS.mark
