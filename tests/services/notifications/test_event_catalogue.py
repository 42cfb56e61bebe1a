"""What each event writes in the journal, and that no producer's event is unknown here."""

from __future__ import annotations

import importlib
import re
import uuid

import pytest

from portail.registry import SERVICES
from services.notifications.events import EVENT_TYPE_PATTERN, JOURNALERS, EventEnvelope

from .factories import event


def envelope(event_type: str, **data: object) -> EventEnvelope:
    """A valid envelope of `event_type` for one family, with `data` only."""
    message = event(event_type)
    message["data"] = data
    return EventEnvelope.model_validate(message)


def declared_events() -> set[str]:
    """Every event name the producers declare in their `events` module."""
    names = set()
    for entry in SERVICES:
        if entry.name == "notifications":
            continue
        try:
            module = importlib.import_module(f"{entry.package}.events")
        except ModuleNotFoundError:
            continue
        names |= {
            value
            for key, value in vars(module).items()
            if key.isupper() and isinstance(value, str) and re.fullmatch(EVENT_TYPE_PATTERN, value)
        }
    return names


def test_every_event_a_producer_declares_is_known_to_the_consumer() -> None:
    unknown = declared_events() - set(JOURNALERS)
    assert not unknown, f"add these to services/notifications/events.py: {sorted(unknown)}"


def test_a_login_is_a_journal_line_of_the_account_without_its_ip() -> None:
    account = str(uuid.uuid4())
    message = envelope("account.login_succeeded", account_id=account, client_ip="192.0.2.7")

    draft = JOURNALERS["account.login_succeeded"](message)

    assert draft is not None
    assert (draft.family_id, draft.account_id, draft.summary) == (message.family_id, account, {})


@pytest.mark.parametrize("event_type", ["account.invited", "account.password_reset_requested"])
def test_links_and_addresses_never_reach_the_journal(event_type: str) -> None:
    message = envelope(
        event_type, link="https://portail/reset?token=secret", email="parent@example.org"
    )

    draft = JOURNALERS[event_type](message)

    assert draft is None or draft.summary == {}


def test_a_registration_keeps_what_the_family_reads() -> None:
    message = envelope(
        "registration.refused",
        person_name="Enfant TEST",
        activity_name="ALSH Josta Leku",
        period_name="Vacances de printemps 2023",
        reason="complet",
        person_id="p1",
    )

    draft = JOURNALERS["registration.refused"](message)

    assert draft is not None
    assert draft.summary == {
        "person_name": "Enfant TEST",
        "activity_name": "ALSH Josta Leku",
        "period_name": "Vacances de printemps 2023",
        "reason": "complet",
    }


def test_an_event_without_a_family_adds_no_line() -> None:
    message = EventEnvelope.model_validate(
        {**event("account.login_succeeded"), "family_id": None, "data": {"account_id": "a"}}
    )
    assert JOURNALERS["account.login_succeeded"](message) is None
