"""The request id of the work in progress, carried across HTTP calls, tasks and log lines."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

REQUEST_ID_HEADER = "X-Request-Id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")

current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)


def new_request_id() -> str:
    """A fresh request id."""
    return uuid.uuid4().hex


def accept_request_id(value: str | None) -> str:
    """Keep an incoming id when it is well-formed (no log injection), otherwise make one."""
    if value and _VALID_REQUEST_ID.match(value):
        return value
    return new_request_id()
