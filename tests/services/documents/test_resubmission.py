"""A family sends a document again while its first copy still waits: the new copy replaces it.

Staff see one line per document, a stale queue cannot decide on the replaced copy (409), the
family keeps it in its history, and two uploads sent together leave exactly one waiting —
on the real service and PostgreSQL, with moto's S3 over HTTP.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from services.documents.keys import CLAMD, STORAGE
from services.documents.maintenance import purge, rescan
from services.documents.models import OutboxMessage, Submission
from services.kit.keys import DATABASE
from services.kit.outbox import utcnow
from services.kit.testing import TestSigner

from . import files
from .api import create_type, new_family, parent, staff, upload

REPLACED_MESSAGE = (
    "La famille a envoyé une nouvelle version de ce document : celle-ci est remplacée "
    "et ne peut plus être validée ni refusée. La nouvelle version est dans la liste."
)


async def _send(documents, signer, family, type_id, person_id=None, name="doc.pdf") -> dict:
    response = await upload(
        documents, parent(signer, family), family, type_id, [(name, files.pdf())], person_id
    )
    assert response.status == 201, await response.text()
    return dict(await response.json())


async def _queue(documents, signer) -> list[str]:
    reply = await documents.get("/review/submissions", headers=staff(signer))
    return [s["id"] for s in (await reply.json())["items"]]


async def _states(documents) -> dict[str, str]:
    async with documents.app[DATABASE].sessions() as session:
        return {s.id: s.state for s in await session.scalars(select(Submission))}


async def _event_types(documents) -> list[tuple[str, str]]:
    async with documents.app[DATABASE].sessions() as session:
        rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.occurred_at))
        return [(r.message["type"], r.message["data"]["submission_id"]) for r in rows]


async def test_a_second_copy_replaces_the_waiting_one_which_stays_in_the_family_history(
    documents, signer: TestSigner, bucket
) -> None:
    family = new_family()
    kind = await create_type(documents, signer, name="Attestation CAF")
    first = await _send(documents, signer, family, kind["id"], name="scan-flou.pdf")
    second = await _send(documents, signer, family, kind["id"], name="scan-net.pdf")

    assert await _queue(documents, signer) == [second["id"]]
    history = await documents.get(
        f"/families/{family}/submissions/{first['id']}", headers=parent(signer, family)
    )
    old = await history.json()
    assert (old["state"], old["state_label"]) == ("replaced", "Remplacé")
    assert [f["name"] for f in old["files"]] == ["scan-flou.pdf"]
    listed = await (
        await documents.get(f"/families/{family}/documents", headers=parent(signer, family))
    ).json()
    item = next(d for d in listed["family"] if d["document_type_id"] == kind["id"])
    assert (item["state"], item["submission"]["id"]) == ("pending", second["id"])
    assert await _event_types(documents) == [
        ("document.submitted", first["id"]),
        ("document.replaced", first["id"]),
        ("document.submitted", second["id"]),
    ]
    # Retention: the replaced copy's file is kept as a superseded copy's (30 days), then
    # purged with its row; the new copy's file is another object and stays.
    assert len(bucket.keys()) == 2
    async with documents.app[DATABASE].sessions() as session:
        replaced = await session.get(Submission, first["id"])
        assert replaced is not None and replaced.purge_after is not None
        assert abs(replaced.purge_after - (utcnow() + timedelta(days=30))) < timedelta(minutes=5)
    app = documents.app
    assert (await purge(app[DATABASE], app[STORAGE])).submissions == 0
    later = await purge(app[DATABASE], app[STORAGE], now=utcnow() + timedelta(days=31))
    assert (later.submissions, later.objects) == (1, 1)
    assert await _states(documents) == {second["id"]: "pending"}
    assert len(bucket.keys()) == 1


async def test_a_stale_queue_cannot_decide_on_the_replaced_copy(
    documents, signer: TestSigner
) -> None:
    family = new_family()
    kind = await create_type(documents, signer, validity_days=365)
    first = await _send(documents, signer, family, kind["id"])
    stale_queue = await _queue(documents, signer)
    second = await _send(documents, signer, family, kind["id"])

    for path, body in (("accept", {}), ("refuse", {"reason": "Illisible, merci."})):
        answer = await documents.post(
            f"/submissions/{stale_queue[0]}/{path}", json=body, headers=staff(signer)
        )
        assert answer.status == 409
        assert answer.content_type == "application/problem+json"
        assert (await answer.json())["detail"] == REPLACED_MESSAGE
    accepted = await documents.post(
        f"/submissions/{second['id']}/accept", json={}, headers=staff(signer)
    )

    assert accepted.status == 200
    assert await _states(documents) == {first["id"]: "replaced", second["id"]: "accepted"}
    decisions = [t for t, _ in await _event_types(documents) if t == "document.accepted"]
    assert decisions == ["document.accepted"]  # one « Document accepté » e-mail, not two


async def test_uploads_sent_together_leave_exactly_one_waiting(
    documents, signer: TestSigner
) -> None:
    family = new_family()
    kind = await create_type(documents, signer)
    for _ in range(3):
        sent = await asyncio.gather(
            *(_send(documents, signer, family, kind["id"]) for _ in range(4))
        )
        states = await _states(documents)
        waiting = [i for i, state in states.items() if state == "pending"]
        assert len(waiting) == 1, states
        assert await _queue(documents, signer) == waiting
        assert {s["id"] for s in sent} <= set(states)
        # The one left waiting is the last committed: every other was replaced.
        assert sorted(states.values()).count("replaced") == len(states) - 1


async def test_another_person_or_another_document_is_not_replaced(
    documents, signer: TestSigner, members
) -> None:
    family = new_family()
    _, directory = members
    anna = directory.add(family, "Anna")
    louis = directory.add(family, "Louis")
    vaccins = await create_type(documents, signer, concerns="child")
    caf = await create_type(documents, signer, name="Attestation CAF")
    impots = await create_type(documents, signer, name="Avis d'imposition")
    other_family = new_family()
    untouched = [
        await _send(documents, signer, family, vaccins["id"], louis),
        await _send(documents, signer, family, caf["id"]),
        await _send(documents, signer, family, impots["id"]),
        await _send(documents, signer, other_family, caf["id"]),
    ]
    first_anna = await _send(documents, signer, family, vaccins["id"], anna)
    second_anna = await _send(documents, signer, family, vaccins["id"], anna)

    states = await _states(documents)
    assert states.pop(first_anna["id"]) == "replaced"
    assert states == {s["id"]: "pending" for s in [*untouched, second_anna]}


async def test_only_the_waiting_copy_is_replaced_never_a_decided_one(
    documents, signer: TestSigner
) -> None:
    family = new_family()
    kind = await create_type(documents, signer)
    accepted = await _send(documents, signer, family, kind["id"])
    await documents.post(f"/submissions/{accepted['id']}/accept", json={}, headers=staff(signer))
    refused = await _send(documents, signer, family, kind["id"])
    await documents.post(
        f"/submissions/{refused['id']}/refuse", json={"reason": "Illisible."}, headers=staff(signer)
    )
    waiting = await _send(documents, signer, family, kind["id"])
    newest = await _send(documents, signer, family, kind["id"])

    assert await _states(documents) == {
        accepted["id"]: "accepted",
        refused["id"]: "refused",
        waiting["id"]: "replaced",
        newest["id"]: "pending",
    }


async def test_a_copy_still_waiting_for_the_antivirus_is_replaced_and_never_opened(
    make_documents, clamd, bucket_of, signer: TestSigner
) -> None:
    documents = await make_documents(clamd_host="127.0.0.1", clamd_port=clamd.port)
    clamd.stop()  # no verdict: the first copy stays « En cours d'analyse »
    family = new_family()
    kind = await create_type(documents, signer)
    first = await _send(documents, signer, family, kind["id"])
    clamd.start()
    second = await _send(documents, signer, family, kind["id"])

    assert (first["state"], second["state"]) == ("scanning", "pending")
    assert clamd.verdicts() == ["OK"]  # the second copy's, from the clamd started again
    app = documents.app
    assert await rescan(app[DATABASE], app[STORAGE], app[CLAMD]) == 0  # nothing left to scan
    assert await _states(documents) == {first["id"]: "replaced", second["id"]: "pending"}
    assert await _queue(documents, signer) == [second["id"]]
    download = await documents.get(
        f"/families/{family}/submissions/{first['id']}/files/{first['files'][0]['id']}",
        headers=parent(signer, family),
    )
    assert download.status == 409  # never cleared by the antivirus
    # Staff never saw it: no « document.replaced » to close; its file goes at the next purge.
    assert await _event_types(documents) == [("document.submitted", second["id"])]
    report = await purge(app[DATABASE], app[STORAGE])
    assert (report.submissions, report.objects) == (1, 1)
    assert len(bucket_of(documents).keys()) == 1
