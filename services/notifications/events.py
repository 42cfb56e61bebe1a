"""Events this service consumes: the envelope every producer sends, and what each type journals.

This service emits no event. Each consumed type maps to a `Journaler` that says which
family's journal gets a line and what the line keeps; a type missing here is a dead letter,
so add a type here before a producer starts emitting it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

# The producers' names, restated rather than imported: no service imports another's package.
FAMILY_CREATED = "family.created"

EVENT_ID_PATTERN = r"^[0-9a-fA-F-]{36}$"
EVENT_TYPE_PATTERN = r"^[a-z][a-z_]*(\.[a-z][a-z_]*)+$"


class EventEnvelope(BaseModel):
    """The envelope written by `services.kit.outbox.record_event`; unknown keys are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(pattern=EVENT_ID_PATTERN)
    type: str = Field(max_length=100, pattern=EVENT_TYPE_PATTERN)
    source: str = Field(min_length=1, max_length=50)
    occurred_at: AwareDatetime
    family_id: str | None = Field(None, max_length=36)
    request_id: str | None = Field(None, max_length=128)
    data: dict[str, Any]


@dataclass(frozen=True)
class JournalDraft:
    """What one event adds to a family's journal."""

    family_id: str
    account_id: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)


# None means: a known event that adds no journal line (e.g. one with no family).
Journaler = Callable[[EventEnvelope], JournalDraft | None]


def _family_created(event: EventEnvelope) -> JournalDraft | None:
    family_id = event.family_id or event.data.get("family_id")
    if not isinstance(family_id, str):
        return None
    name = event.data.get("name")
    return JournalDraft(
        family_id=family_id,
        account_id=_account_of(event),
        summary={"name": name} if isinstance(name, str) else {},
    )


def _account_of(event: EventEnvelope) -> str | None:
    account = event.data.get("account_id")
    return account if isinstance(account, str) else None


# Journal lines keep only what a reader needs: never a secret, a token or a document's content.
JOURNALERS: dict[str, Journaler] = {
    FAMILY_CREATED: _family_created,
}
