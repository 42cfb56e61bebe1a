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
