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


def journal(*keep: str) -> Journaler:
    """A line in the event's family's journal, keeping only the data fields named in `keep`."""

    def journaler(event: EventEnvelope) -> JournalDraft | None:
        family_id = event.family_id or event.data.get("family_id")
        if not isinstance(family_id, str):
            return None
        return JournalDraft(
            family_id=family_id,
            account_id=_account_of(event),
            summary={name: event.data[name] for name in keep if name in event.data},
        )

    return journaler


def nothing(_event: EventEnvelope) -> None:
    """A known event that adds no journal line (its e-mail, if any, comes with issue 5)."""
    return None


def _account_of(event: EventEnvelope) -> str | None:
    account = event.data.get("account_id")
    return account if isinstance(account, str) else None


# The producers' event names, restated rather than imported: no service imports another's
# package. Journal lines keep only what a reader needs — never a link, a token, an e-mail
# address, an IP address or a document's content (the whitelists below say so by omission).
JOURNALERS: dict[str, Journaler] = {
    # families
    "family.created": journal("name"),
    "family.updated": journal("fields"),
    "person.created": journal("person_id"),
    "person.updated": journal("person_id", "fields"),
    "family.change_requested": journal("fields"),
    "family.change_accepted": journal("fields"),
    "family.change_refused": journal("fields", "reason"),
    "family.change_withdrawn": journal("fields"),
    # auth: the connections of "Historique de mes actions"
    "account.login_succeeded": journal(),
    "account.login_failed": journal("reason"),
    "account.logged_out": journal(),
    "account.activated": journal(),
    "account.password_changed": journal(),
    "account.password_reset_requested": journal(),
    "account.password_reset_completed": journal(),
    "account.mfa_enabled": journal(),
    "account.mfa_disabled": journal(),
    "account.membership_added": journal(),
    "account.membership_removed": journal(),
    "account.disabled": journal(),
    "account.enabled": journal(),
    "account.unlocked": journal(),
    "account.invited": nothing,
    "api_client.created": nothing,
    "api_client.revoked": nothing,
    "signing_key.rotated": nothing,
    # bookings
    "activity.created": nothing,
    "registration.requested": journal("person_name", "activity_name", "period_name"),
    "registration.accepted": journal("person_name", "activity_name", "period_name", "automatic"),
    "registration.refused": journal("person_name", "activity_name", "period_name", "reason"),
    "registration.cancelled": journal("person_name", "activity_name", "period_name"),
    # documents
    "document.submitted": journal("document_type_name", "person_name"),
    "document.accepted": journal("document_type_name", "person_name"),
    "document.refused": journal("document_type_name", "person_name", "reason"),
    # billing
    "invoice.issued": journal("number", "total_cents"),
}
