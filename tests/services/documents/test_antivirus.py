"""clamd decides before staff see a file: infected → refused and deleted; no clamd → unseen."""

from __future__ import annotations

from sqlalchemy import select

from services.documents.keys import CLAMD, STORAGE
from services.documents.maintenance import rescan
from services.documents.models import OutboxMessage
from services.kit.keys import DATABASE
from services.kit.testing import TestSigner

from . import files
from .api import create_type, new_family, parent, staff, upload


async def _event_types(documents) -> list[str]:
    async with documents.app[DATABASE].sessions() as session:
        rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.occurred_at))
        return [row.event_type for row in rows]


async def test_a_clean_file_is_scanned_then_shown_to_staff(
    make_documents, clamd, signer: TestSigner
) -> None:
    documents = await make_documents(clamd_host="127.0.0.1", clamd_port=clamd.port)
    family = new_family()
    kind = await create_type(documents, signer)
    content = files.pdf()

    response = await upload(
        documents, parent(signer, family), family, kind["id"], [("a.pdf", content)]
    )

    assert (await response.json())["state"] == "pending"
    assert clamd.scanned == [content]
    assert await _event_types(documents) == ["document.submitted"]


async def test_an_infected_file_is_refused_and_its_object_deleted(
    make_documents, clamd, bucket_of, signer: TestSigner
) -> None:
    documents = await make_documents(clamd_host="127.0.0.1", clamd_port=clamd.port)
    bucket = bucket_of(documents)
    clamd.verdict = "Eicar-Test-Signature"
    family = new_family()
    kind = await create_type(documents, signer)

    response = await upload(
        documents, parent(signer, family), family, kind["id"], [("a.pdf", files.pdf())]
    )

    body = await response.json()
    assert body["state"] == "refused"
    assert "antivirus" in body["refusal_reason"]
    assert body["files"] == []
    assert bucket.keys() == []
    queue = await (await documents.get("/review/submissions", headers=staff(signer))).json()
    assert queue["items"] == []
    assert await _event_types(documents) == ["document.refused"]


async def test_clamd_unreachable_fails_closed_until_a_retry_gets_a_verdict(
    make_documents, clamd, bucket_of, signer: TestSigner
) -> None:
    documents = await make_documents(clamd_host="127.0.0.1", clamd_port=clamd.port)
    bucket = bucket_of(documents)
    await clamd.stop()
    family = new_family()
    kind = await create_type(documents, signer)

    response = await upload(
        documents, parent(signer, family), family, kind["id"], [("a.pdf", files.pdf())]
    )
    sent = await response.json()

    assert response.status == 201
    assert (sent["state"], sent["state_label"]) == ("scanning", "En cours d'analyse")
    queue = await (await documents.get("/review/submissions", headers=staff(signer))).json()
    assert queue["items"] == []
    scanning = await documents.get("/review/submissions?state=scanning", headers=staff(signer))
    assert scanning.status == 422
    download = await documents.get(
        f"/families/{family}/submissions/{sent['id']}/files/{sent['files'][0]['id']}",
        headers=staff(signer),
    )
    assert download.status == 409
    accept = await documents.post(
        f"/submissions/{sent['id']}/accept", json={}, headers=staff(signer)
    )
    assert accept.status == 409
    assert "en cours d'analyse" in (await accept.json())["detail"]
    assert await _event_types(documents) == []
    assert len(bucket.keys()) == 1  # kept, waiting for a verdict

    app = documents.app
    assert await rescan(app[DATABASE], app[STORAGE], app[CLAMD]) == 0  # still down
    await clamd.start()
    assert await rescan(app[DATABASE], app[STORAGE], app[CLAMD]) == 1

    queue = await (await documents.get("/review/submissions", headers=staff(signer))).json()
    assert [s["id"] for s in queue["items"]] == [sent["id"]]
    assert await _event_types(documents) == ["document.submitted"]


async def test_the_retry_deletes_what_turns_out_infected(
    make_documents, clamd, bucket_of, signer: TestSigner
) -> None:
    documents = await make_documents(clamd_host="127.0.0.1", clamd_port=clamd.port)
    bucket = bucket_of(documents)
    await clamd.stop()
    family = new_family()
    kind = await create_type(documents, signer)
    await upload(documents, parent(signer, family), family, kind["id"], [("a.pdf", files.pdf())])
    clamd.verdict = "Win.Trojan.Agent"
    await clamd.start()

    app = documents.app
    assert await rescan(app[DATABASE], app[STORAGE], app[CLAMD]) == 1

    assert bucket.keys() == []
    assert await _event_types(documents) == ["document.refused"]
