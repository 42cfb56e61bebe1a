"""Event messages as producers write them (services.kit.outbox.record_event's envelope)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from services.notifications.config import NotificationsSettings


def event(
    event_type: str = "family.created",
    *,
    family_id: str | None = None,
    occurred_at: datetime | None = None,
    **data: Any,
) -> dict[str, Any]:
    """A well-formed envelope; `family.created` for a new family by default."""
    family_id = family_id or str(uuid.uuid4())
    return {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "source": "families",
        "occurred_at": (occurred_at or datetime.now(UTC)).isoformat(),
        "family_id": family_id,
        "request_id": uuid.uuid4().hex,
        "data": {"family_id": family_id, "name": "TEST", **data},
    }


# Settings of the consumer in tests: the defaults, with a recognisable public address.
SETTINGS = NotificationsSettings(profile="test", public_base_url="https://portail.example.org")


def settings_for(port: int, **extra: Any) -> NotificationsSettings:
    """The consumer's settings pointed at a test SMTP server on `port`."""
    values: dict[str, Any] = {
        "PORTAIL_PROFILE": "test",
        "PUBLIC_BASE_URL": "https://portail.example.org",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": port,
        "SMTP_FROM": "Mairie de Hasparren <ne-pas-repondre@hasparren.example.org>",
        "email_retry_base_seconds": 0.01,
        "email_retry_max_seconds": 0.05,
    }
    return NotificationsSettings(**{**values, **extra})


def invited(
    family_id: str, email: str, *, account_id: str | None = None, **data: Any
) -> dict[str, Any]:
    """auth's `account.invited`: the event that teaches this service a parent's address."""
    account_id = account_id or str(uuid.uuid4())
    message = event("account.invited", family_id=family_id)
    message["source"] = "auth"
    message["data"] = {
        "account_id": account_id,
        "family_ids": [family_id],
        "email": email,
        "kind": "family",
        "link": "https://portail.example.org/premiere-connexion?jeton=SECRET",
        "expires_at": "2026-12-05T10:00:00+00:00",
        "resent": False,
        **data,
    }
    return message


def of_type(
    event_type: str, family_id: str, *, source: str = "families", **data: Any
) -> dict[str, Any]:
    """An event of `event_type` for `family_id` with exactly `data` (plus family_id)."""
    message = event(event_type, family_id=family_id)
    message["source"] = source
    message["data"] = {"family_id": family_id, **data}
    return message
