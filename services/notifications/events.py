"""Events this service consumes: the envelope every producer sends, and what each type journals.

This service emits no event. Each consumed type maps to a `Journaler` that says which
family's journal gets a line and what the line keeps; a type missing here is a dead letter,
so add a type here before a producer starts emitting it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

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
    # Who acted (an account id) and, when the event says it, as what: family, staff, service.
    actor_id: str | None = None
    actor_role: str | None = None


# None means: a known event that adds no journal line (e.g. one with no family).
Journaler = Callable[[EventEnvelope], JournalDraft | None]


def journal(*keep: str) -> Journaler:
    """A line in the event's family's journal, keeping only the data fields named in `keep`."""

    def journaler(event: EventEnvelope) -> JournalDraft | None:
        family_id = event.family_id or event.data.get("family_id")
        if not isinstance(family_id, str):
            return None
        actor_id, actor_role = actor_of(event)
        return JournalDraft(
            family_id=family_id,
            account_id=_account_of(event),
            summary={name: event.data[name] for name in keep if name in event.data},
            actor_id=actor_id,
            actor_role=actor_role,
        )

    return journaler


def nothing(_event: EventEnvelope) -> None:
    """A known event that adds no journal line (its e-mail, if any, comes with issue 5)."""
    return None


def _account_of(event: EventEnvelope) -> str | None:
    account = event.data.get("account_id")
    return account if isinstance(account, str) else None


# auth's events the account itself did: it proved it holds the account. A failed sign-in or a
# reset request may be anyone's doing: those lines name the account, never who acted.
SELF_ACTED = frozenset(
    {
        "account.login_succeeded",
        "account.logged_out",
        "account.activated",
        "account.password_changed",
        "account.password_reset_completed",
        "account.mfa_enabled",
        "account.mfa_disabled",
    }
)
NOBODY_KNOWN = frozenset({"account.login_failed", "account.password_reset_requested"})


def actor_of(event: EventEnvelope) -> tuple[str | None, str | None]:
    """(account id, role) of who did what the event tells, as far as the event says it.

    Producers name the actor differently: documents `by` and `by_role` (`role` in
    `family.exported`), families `by`, auth `actor` or the account itself. A role left None
    is looked up when the line is written (`service._apply`, the address book's kind)."""
    data = event.data
    if event.type in NOBODY_KNOWN:
        return None, None
    if event.type in SELF_ACTED:
        return _account_of(event), _text(data.get("kind")) or "family"
    if event.source == "auth" and _text(data.get("actor")):
        # auth acts on another's account (disable, unlock, memberships) for staff only.
        return _text(data.get("actor")), "staff"
    role = data.get("role") if event.type == "family.exported" else data.get("by_role")
    return _text(data.get("actor") or data.get("by")), _text(role)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


# The producers' event names, restated rather than imported: no service imports another's
# package. Journal lines keep only what a reader needs — never a link, a token, an e-mail
# address, an IP address or a document's content (the whitelists below say so by omission).
JOURNALERS: dict[str, Journaler] = {
    # families
    "family.created": journal("name"),
    "family.updated": journal("fields"),
    "person.created": journal("person_id"),
    # `maintenance`: the town emptied fields (portail families-inapplicable-fields), not the
    # family nor an agent; `labels`: those fields as the families screens name them.
    "person.updated": journal("person_id", "fields", "labels", "maintenance"),
    # `labels`: the fields as the families screens name them, for the line's detail.
    "family.change_requested": journal("fields", "labels"),
    "family.change_accepted": journal("fields", "labels"),
    "family.change_refused": journal("fields", "labels", "reason"),
    "family.change_withdrawn": journal("fields", "labels"),
    # Sensitive access (promise 30): a family's data exported, and by whom (staff or itself).
    "family.exported": journal("role"),
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
    # A preference, not an action: the address book learns the language (outgoing.py).
    "account.language_changed": nothing,
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
    # The family sent the document again before staff decided: the older copy left the queue.
    "document.replaced": journal("document_type_name", "person_name"),
    # Sensitive access (promise 30): who opened a family's file — staff or the family itself.
    "document.downloaded": journal("document_type_name", "person_name", "by_role"),
    # billing
    "invoice.issued": journal("number", "total_cents"),
    "invoice.cancelled": journal("number", "reason", "credit_note_number"),
    # Named here before their producers ship them (issues 6, 8, 9): the e-mails they call for
    # are in MAILERS below.
    "reservation.confirmed": journal("person_name", "activity_name", "date", "unit_name"),
    "reservation.refused": journal("person_name", "activity_name", "date", "unit_name", "reason"),
    "reservation.place_freed": journal("person_name", "activity_name", "date", "unit_name"),
    # bookings, issue 8 (the reservation grid): every change is a journal line.
    "reservation.requested": journal("person_name", "activity_name", "date", "unit_name"),
    "reservation.cancelled": journal("person_name", "activity_name", "date", "unit_name", "reason"),
    "reservation.waitlisted": journal("person_name", "activity_name", "date", "unit_name"),
    "reservation.promoted": journal("person_name", "activity_name", "date", "unit_name"),
    "document.expiring": journal("document_type_name", "person_name", "expires_on"),
    # `method`: the line says how it was paid (« paiement en ligne », « chèque »…).
    "payment.received": journal("receipt_number", "amount_cents", "method"),
}


# --- e-mails ---------------------------------------------------------------------------

MANDATORY = "obligatoire"
# Optional categories a family may turn off (French labels shown on its preferences page).
# Security and decisions are never optional: they are MANDATORY.
OPTIONAL_CATEGORIES: dict[str, str] = {
    "rappels": "Rappels (documents bientôt expirés)",
    "factures": "Factures disponibles et paiements reçus",
    "accuses": "Accusés de réception de mes messages",
}
Audience = Literal["event_address", "account", "family"]


@dataclass(frozen=True)
class MailRule:
    """The e-mail an event calls for: template, who receives it, and whether it may be declined.

    `event_address`: the address the event carries (an invitation, a reset: the account may
    not be known here yet); `account`: the acting account's known address; `family`: every
    known account of the event's family. `path` is the portal page the e-mail links to, when
    the event does not carry its own link. `only_if`: a data field that must be true for the
    e-mail to go (the event also stands for changes that call for none).
    """

    template: str
    audience: Audience
    category: str = MANDATORY
    path: str = "/"
    only_if: str = ""


MAILERS: dict[str, MailRule] = {
    "account.invited": MailRule("invitation", "event_address"),
    "account.password_reset_requested": MailRule("password_reset", "event_address"),
    "account.password_changed": MailRule("password_changed", "account", path="/mot-de-passe"),
    "account.password_reset_completed": MailRule(
        "password_changed", "account", path="/mot-de-passe"
    ),
    "family.change_accepted": MailRule("family_change_accepted", "family", path="/famille"),
    "family.change_refused": MailRule("family_change_refused", "family", path="/famille"),
    "registration.accepted": MailRule("registration_accepted", "family", path="/inscriptions"),
    "registration.refused": MailRule("registration_refused", "family", path="/inscriptions"),
    "reservation.confirmed": MailRule("reservation_confirmed", "family", path="/reservations"),
    "reservation.refused": MailRule("reservation_refused", "family", path="/reservations"),
    "reservation.place_freed": MailRule("reservation_place_freed", "family", path="/reservations"),
    # A day the structure closed (strike, school shut): the family did not cancel, so it must
    # hear of it; its own cancellations are in its planning already.
    "reservation.cancelled": MailRule(
        "reservation_cancelled", "family", path="/reservations", only_if="by_structure"
    ),
    "document.accepted": MailRule("document_accepted", "family", path="/documents"),
    "document.refused": MailRule("document_refused", "family", path="/documents"),
    "document.expiring": MailRule("document_expiring", "family", "rappels", "/documents"),
    "invoice.issued": MailRule("invoice_issued", "family", "factures", "/factures"),
    "payment.received": MailRule("payment_received", "family", "factures", "/factures"),
}

# Requests staff must decide, opened and closed by events: the staff digest counts them.
# event type → (kind, the data field that identifies the request, opens or closes it)
PENDING_REQUESTS: dict[str, tuple[str, str, bool]] = {
    "family.change_requested": ("famille", "request_id", True),
    "family.change_accepted": ("famille", "request_id", False),
    "family.change_refused": ("famille", "request_id", False),
    "family.change_withdrawn": ("famille", "request_id", False),
    "registration.requested": ("inscription", "registration_id", True),
    "registration.accepted": ("inscription", "registration_id", False),
    "registration.refused": ("inscription", "registration_id", False),
    "registration.cancelled": ("inscription", "registration_id", False),
    # A reservation of an activity validated by hand: staff accept or refuse it.
    "reservation.requested": ("reservation", "reservation_id", True),
    "reservation.confirmed": ("reservation", "reservation_id", False),
    "reservation.refused": ("reservation", "reservation_id", False),
    "reservation.cancelled": ("reservation", "reservation_id", False),
    "reservation.waitlisted": ("reservation", "reservation_id", False),
    "document.submitted": ("document", "submission_id", True),
    "document.accepted": ("document", "submission_id", False),
    "document.refused": ("document", "submission_id", False),
    "document.replaced": ("document", "submission_id", False),
}
