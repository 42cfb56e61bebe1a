"""A municipal system cannot learn that an e-mail is a staff member's (docs/auth.md, « Who
signs in »): inviting it answers exactly as inviting a parent already in the family does —
status, type, title and detail, after the same database statements — while staff, who see
every account anyway, keep the precise reason."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from services.kit.keys import DATABASE

from .conftest import active_family, staff_headers


@contextmanager
def statements_of(client: Any) -> Iterator[list[str]]:
    """The SQL statements the auth app sends while the block runs on accounts, memberships
    and links (not the outbox relay's, which publishes in the background meanwhile)."""
    engine = client.app[DATABASE].engine.sync_engine
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "outbox" not in statement:
            seen.append(" ".join(statement.split())[:80])

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


async def _a_staff_member(client: Any, signer: Any) -> tuple[str, str]:
    email = f"agent-{uuid.uuid4().hex[:6]}@example.org"
    made = await client.post(
        "/staff",
        json={"email": email, "roles": ["agent"]},
        headers=staff_headers(signer, "administrator"),
    )
    assert made.status == 201, await made.text()
    return email, (await made.json())["account"]["id"]


async def test_a_system_inviting_a_staff_email_hears_what_a_member_email_gets(
    auth_client, signer
) -> None:
    client = await auth_client()
    parent = await active_family(client, signer)
    family_id = parent["account"]["memberships"][0]["family_id"]
    agent, _ = await _a_staff_member(client, signer)
    system = signer.headers(
        role="service", subject="recensement", scopes=["auth:write", "families:read"]
    )

    answers, statements = {}, {}
    for who, email in (("member", parent["email"]), ("staff", agent)):
        with statements_of(client) as seen:
            answer = await client.post(
                "/invitations", json={"email": email, "family_id": family_id}, headers=system
            )
        assert answer.content_type == "application/problem+json"
        answers[who] = (answer.status, await answer.json())
        statements[who] = seen
    assert answers["staff"] == answers["member"]
    status, body = answers["staff"]
    assert status == 409 and body["type"].endswith("/account-exists")
    assert "staff" not in body["detail"].lower()
    # The same reads before the refusal: no round trip tells the two apart by its time.
    assert statements["staff"] == statements["member"], statements


async def test_staff_still_hear_that_an_email_is_a_staff_members(auth_client, signer) -> None:
    client = await auth_client()
    parent = await active_family(client, signer)
    family_id = parent["account"]["memberships"][0]["family_id"]
    agent, _ = await _a_staff_member(client, signer)
    answers = {}
    for who, email in (("member", parent["email"]), ("staff", agent)):
        answer = await client.post(
            "/invitations",
            json={"email": email, "family_id": family_id},
            headers=staff_headers(signer),
        )
        assert answer.status == 409
        answers[who] = (await answer.json())["detail"]
    assert answers["staff"] == "This e-mail belongs to a staff account."
    assert answers["member"] == "This account is already a member of this family."


async def test_a_staff_id_answers_every_account_route_as_an_unknown_id(auth_client, signer) -> None:
    """The routes a system reaches with an account id say nothing more than `GET`: a staff
    id's answer is an unknown id's, body included (removing a family from a staff id said
    « No such membership. », i.e. that the account exists)."""
    client = await auth_client()
    parent = await active_family(client, signer)
    family_id = parent["account"]["memberships"][0]["family_id"]
    _, staff_id = await _a_staff_member(client, signer)
    system = signer.headers(
        role="service", subject="recensement", scopes=["auth:write", "families:read"]
    )
    for method, route, sent in (
        ("GET", "/accounts/{}", None),
        ("POST", "/accounts/{}/invitation", None),
        ("POST", "/accounts/{}/memberships", {"family_id": family_id}),
        ("DELETE", "/accounts/{}/memberships/" + family_id, None),
    ):
        bodies = []
        for account_id in (staff_id, str(uuid.uuid4())):
            answer = await client.request(
                method, route.format(account_id), json=sent, headers=system
            )
            assert answer.status == 404, (method, route, answer.status)
            body = await answer.json()
            body.pop("instance")  # the path asked: the id itself
            bodies.append(body)
        assert bodies[0] == bodies[1], (method, route, bodies)
