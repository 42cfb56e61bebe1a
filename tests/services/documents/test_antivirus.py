"""A real clamd decides before staff see a file: infected → refused and deleted; clamd down →
unseen until a retry gets a verdict. Its signatures are the tests' own EICAR ones (clamd.py)."""

from __future__ import annotations

from sqlalchemy import select

from services.documents.antivirus import Clamd
from services.documents.keys import CLAMD, STORAGE
from services.documents.maintenance import rescan
from services.documents.models import OutboxMessage
from services.kit.keys import DATABASE
from services.kit.testing import TestSigner

from . import files
from .api import create_type, multipart, new_family, parent, staff, upload
from .clamd import SIGNATURE, RealClamd

FOUND = f"{SIGNATURE}.UNOFFICIAL FOUND"
REFUSAL = (
    "L'antivirus a détecté un contenu malveillant dans ce fichier : il a été supprimé. "
    "Envoyez une autre copie du document."
)


async def _events(documents) -> list[tuple[str, dict]]:
    async with documents.app[DATABASE].sessions() as session:
        rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.occurred_at))
        return [(row.event_type, row.message["data"]) for row in rows]


async def _event_types(documents) -> list[str]:
    return [event_type for event_type, _ in await _events(documents)]


def _antivirus(clamd: RealClamd) -> dict[str, object]:
    return {"clamd_host": "127.0.0.1", "clamd_port": clamd.port}


async def test_clamd_knows_the_eicar_file_and_passes_a_sound_pdf(clamd: RealClamd) -> None:
    client = Clamd("127.0.0.1", clamd.port, timeout=10)
    await client.ping()

    eicar = await client.scan(files.EICAR)
    inside_a_pdf = await client.scan(files.pdf_with_eicar())
    sound = await client.scan(files.pdf())

    assert not eicar.clean and eicar.signature.startswith(SIGNATURE)
    assert (inside_a_pdf.clean, inside_a_pdf.signature) == (False, f"{SIGNATURE}.UNOFFICIAL")
    assert sound.clean


async def test_a_clean_file_is_scanned_then_shown_to_staff(
    make_documents, clamd: RealClamd, signer: TestSigner
) -> None:
    documents = await make_documents(**_antivirus(clamd))
    family = new_family()
    kind = await create_type(documents, signer)

    response = await upload(
        documents, parent(signer, family), family, kind["id"], [("a.pdf", files.pdf())]
    )

    assert (await response.json())["state"] == "pending"
    assert clamd.verdicts() == ["OK"]
    assert await _event_types(documents) == ["document.submitted"]


async def test_a_pdf_carrying_eicar_is_refused_and_its_object_deleted(
    make_documents, clamd: RealClamd, bucket_of, signer: TestSigner
) -> None:
    documents = await make_documents(**_antivirus(clamd))
    bucket = bucket_of(documents)
    family = new_family()
    kind = await create_type(documents, signer)

    response = await upload(
        documents,
        parent(signer, family),
        family,
        kind["id"],
        [("a.pdf", files.pdf()), ("b.pdf", files.pdf_with_eicar())],
    )

    body = await response.json()
    assert response.status == 201
    assert (body["state"], body["refusal_reason"], body["files"]) == ("refused", REFUSAL, [])
    assert bucket.keys() == []
    queue = await (await documents.get("/review/submissions", headers=staff(signer))).json()
    assert queue["items"] == []
    ((event_type, data),) = await _events(documents)
    assert event_type == "document.refused"
    assert data["antivirus_signature"] == f"{SIGNATURE}.UNOFFICIAL"
    assert clamd.verdicts() == ["OK", FOUND]


async def test_the_eicar_file_alone_is_refused_before_clamd(
    make_documents, clamd: RealClamd, bucket_of, signer: TestSigner
) -> None:
    # Not a PDF, JPEG or PNG: the inspection refuses it first, in French, and stores nothing.
    documents = await make_documents(**_antivirus(clamd))
    family = new_family()
    kind = await create_type(documents, signer)

    response = await upload(
        documents, parent(signer, family), family, kind["id"], [("eicar.pdf", files.EICAR)]
    )

    assert response.status == 422
    assert "n'est ni un PDF" in (await response.json())["detail"]
    assert bucket_of(documents).keys() == []
    assert clamd.verdicts() == []


async def test_clamd_unreachable_fails_closed_until_a_retry_gets_a_verdict(
    make_documents, clamd: RealClamd, bucket_of, signer: TestSigner
) -> None:
    documents = await make_documents(**_antivirus(clamd))
    bucket = bucket_of(documents)
    clamd.stop()
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
    clamd.start()
    assert await rescan(app[DATABASE], app[STORAGE], app[CLAMD]) == 1

    queue = await (await documents.get("/review/submissions", headers=staff(signer))).json()
    assert [s["id"] for s in queue["items"]] == [sent["id"]]
    assert await _event_types(documents) == ["document.submitted"]
    assert clamd.verdicts() == ["OK"]


async def test_the_retry_deletes_what_turns_out_infected(
    make_documents, clamd: RealClamd, bucket_of, signer: TestSigner
) -> None:
    documents = await make_documents(**_antivirus(clamd))
    bucket = bucket_of(documents)
    clamd.stop()
    family = new_family()
    kind = await create_type(documents, signer)
    sent = await upload(
        documents, parent(signer, family), family, kind["id"], [("a.pdf", files.pdf_with_eicar())]
    )
    assert (await sent.json())["state"] == "scanning"
    clamd.start()

    app = documents.app
    assert await rescan(app[DATABASE], app[STORAGE], app[CLAMD]) == 1

    assert bucket.keys() == []
    assert await _event_types(documents) == ["document.refused"]
    assert clamd.verdicts() == [FOUND]


async def _org_document(documents, signer: TestSigner) -> str:
    body = {"title": "Règlement intérieur", "category": "Règlement"}
    created = await documents.post("/org-documents", json=body, headers=staff(signer))
    assert created.status == 201, await created.text()
    return str((await created.json())["id"])


async def _attach(documents, signer: TestSigner, document_id: str, content: bytes):  # type: ignore[no-untyped-def]
    payload, content_type = multipart([("reglement.pdf", content)])
    return await documents.post(
        f"/org-documents/{document_id}/files",
        data=payload,
        headers={**staff(signer), "Content-Type": content_type},
    )


async def test_staff_files_wait_for_clamd_and_an_infected_one_is_never_published(
    make_documents, clamd: RealClamd, bucket_of, signer: TestSigner
) -> None:
    documents = await make_documents(**_antivirus(clamd))
    bucket = bucket_of(documents)
    document_id = await _org_document(documents, signer)

    infected = await _attach(documents, signer, document_id, files.pdf_with_eicar())
    clamd.stop()
    unscanned = await _attach(documents, signer, document_id, files.pdf())
    clamd.start()
    published = await _attach(documents, signer, document_id, files.pdf())

    assert infected.status == 422
    assert "L'antivirus a détecté un contenu malveillant" in (await infected.json())["detail"]
    assert unscanned.status == 503
    assert "antivirus est momentanément indisponible" in (await unscanned.json())["detail"]
    assert published.status == 200
    assert len(bucket.keys()) == 1
    assert clamd.verdicts() == [FOUND, "OK"]
