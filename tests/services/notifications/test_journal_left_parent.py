"""A parent who left the family: the family's « Historique de mes actions », its GET /journal
and its export (« Mes données ») no longer give that parent's address — the lines it did stay,
its account said as « un membre de la famille » (3a52d57). Through the real notifications
consumer, service and gateway, with auth's membership event as auth writes it."""

from __future__ import annotations

from typing import Any

from services.kit.database import Database
from services.kit.testing import TestSigner

from .factories import of_type
from .mailing import deliver
from .portal import PARENT, sign_in
from .smtp_server import SmtpServer
from .test_journal_who import (
    OTHER_ACCOUNT,
    OTHER_PARENT,
    by_type,
    journal_of_a_family_with_two_parents,
)


async def test_a_parent_who_left_is_no_longer_named_by_address(
    database: Database, service_client: Any, gateway: Any, upstream: Any,
    signer: TestSigner, smtp: SmtpServer,
) -> None:  # fmt: skip
    portal = await journal_of_a_family_with_two_parents(
        database, service_client, gateway, upstream, signer, smtp
    )
    family = portal.family_id
    await sign_in(portal.client, PARENT)
    before = await (await portal.client.get("/historique")).text()
    assert OTHER_PARENT in before  # a member: named by address

    left = of_type(
        "account.membership_removed", family, source="auth",
        account_id=OTHER_ACCOUNT, email=OTHER_PARENT, family_ids=[], kind="family",
        actor="agent-who-removed", removed_family_id=family,
    )  # fmt: skip
    await deliver(database, portal.settings, left)

    page = await (await portal.client.get("/historique")).text()
    assert OTHER_PARENT not in page and OTHER_ACCOUNT not in page
    assert "agent-who-removed" not in page
    (reset,) = by_type(page, "account.password_reset_completed")
    assert reset["Par"] == "un membre de la famille"
    as_family = signer.headers(subject=PARENT, families=[family])
    journal = await portal.service.get(f"/journal/{family}", headers=as_family)
    assert journal.status == 200
    export = await portal.service.get(f"/families/{family}/export", headers=as_family)
    assert export.status == 200
    for text in (await journal.text(), await export.text()):
        assert OTHER_PARENT not in text and "agent-who-removed" not in text
    # The e-mails sent to that parent are still listed (the family's record), without the
    # address; those to a parent still in the family keep theirs.
    emails = (await export.json())["emails"]
    templates = {e["template"]: e["recipient"] for e in emails}
    assert "invitation" in templates and templates["invitation"] is None
    assert all(e["recipient"] in (None, PARENT) for e in emails), emails
