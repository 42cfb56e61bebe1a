"""`GET /staff/waiting`: what waits for staff, counted from the events the consumer handled and
the contact threads; the staff digest's own count, staff only."""

from __future__ import annotations

import uuid
from typing import Any

from services.kit.database import Database
from services.kit.testing import TestSigner
from services.notifications import contact
from services.notifications.seed import recipient_id, seed_demo

from .factories import of_type, settings_for
from .mailing import deliver

GUICHET = "Guichet unique inscriptions"
NOTHING = {"famille": 0, "inscription": 0, "reservation": 0, "document": 0, "messages": 0}


async def write_to_the_structure(database: Database, settings: Any, family_id: str) -> str:
    """A family's thread, stored as the contact form's handler stores it; its id."""
    async with database.transaction() as session:
        recipient = await contact.active_recipient(session, recipient_id(GUICHET))
        message = await contact.create_message(
            session, settings, family_id=family_id, account_id="parent-1",
            recipient=recipient, subject="Inscription ALSH", body="Bonjour",
        )  # fmt: skip
        return message.id


async def test_staff_see_the_counts_move_as_requests_arrive_and_are_decided(
    database: Database, service_client: Any, signer: TestSigner
) -> None:
    await seed_demo(database)
    settings = settings_for(1)
    client = await service_client("notifications", email_relay_enabled=False)
    staff = signer.headers(role="staff", subject="agent-1")
    family = str(uuid.uuid4())

    async def waiting() -> dict[str, int]:
        response = await client.get("/staff/waiting", headers=staff)
        assert response.status == 200, await response.text()
        return dict(await response.json())

    before = await waiting()
    await deliver(database, settings, of_type("family.change_requested", family, request_id="c1"))
    for n in range(2):
        await deliver(database, settings, of_type("registration.requested", family,
                                                  source="bookings", registration_id=f"r{n}"))  # fmt: skip  # noqa: E501
    await deliver(database, settings, of_type("document.submitted", family, source="documents",
                                              submission_id="s1"))  # fmt: skip
    thread = await write_to_the_structure(database, settings, family)
    await write_to_the_structure(database, settings, family)
    arrived = await waiting()

    await deliver(database, settings, of_type("family.change_accepted", family, request_id="c1"))
    await deliver(database, settings, of_type("registration.refused", family, source="bookings",
                                              registration_id="r0", reason="complet"))  # fmt: skip
    replied = await client.post(
        f"/contact-messages/{thread}/replies", json={"body": "C'est noté."}, headers=staff
    )
    assert replied.status == 201, await replied.text()
    decided = await waiting()

    assert before == NOTHING
    assert arrived == {**NOTHING, "famille": 1, "inscription": 2, "document": 1, "messages": 2}
    assert decided == {**NOTHING, "inscription": 1, "document": 1, "messages": 1}


async def test_families_and_anonymous_callers_are_refused(
    database: Database, service_client: Any, signer: TestSigner
) -> None:
    client = await service_client("notifications", email_relay_enabled=False)
    family = str(uuid.uuid4())

    as_family = await client.get(
        "/staff/waiting", headers=signer.headers(role="family", families=[family])
    )
    anonymous = await client.get("/staff/waiting")

    assert as_family.status == 403
    assert as_family.headers["Content-Type"].startswith("application/problem+json")
    assert anonymous.status == 401
