"""The RGPD export of documents: the family's submissions with their files' metadata (never
the bytes), journaled like a download, and nothing of another family."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select

from services.documents.models import OutboxMessage
from services.kit.keys import DATABASE
from services.kit.testing import TestSigner

from . import files
from .api import create_type, new_family, parent, staff, upload


async def test_the_export_holds_the_familys_submissions_and_nothing_of_another(
    documents, bucket, signer: TestSigner
) -> None:
    mine, theirs = new_family(), new_family()
    kind = await create_type(documents, signer, name=f"Assurance {mine[:8]}")
    content = files.pdf()
    sent = await upload(
        documents, parent(signer, mine), mine, kind["id"], [("assurance.pdf", content)]
    )
    assert sent.status == 201, await sent.text()
    other = await upload(
        documents, parent(signer, theirs), theirs, kind["id"], [("secret-b.pdf", files.pdf())]
    )
    assert other.status == 201, await other.text()

    response = await documents.get(f"/families/{mine}/export", headers=parent(signer, mine))

    assert response.status == 200, await response.text()
    assert "attachment" in response.headers["Content-Disposition"]
    export = await response.json()
    assert export["service"] == "documents" and export["family_id"] == mine
    [submission] = export["submissions"]
    assert submission["id"] == (await sent.json())["id"]
    assert submission["document_type_name"] == kind["name"]
    assert submission["submitted_by"] == f"parent-{mine[:8]}"
    [stored] = submission["files"]
    assert stored["name"] == "assurance.pdf" and stored["size"] == len(content)
    assert stored["sha256"] == hashlib.sha256(content).hexdigest()
    text = json.dumps(export)
    for foreign in (theirs, (await other.json())["id"], "secret-b.pdf"):
        assert foreign not in text
    # Metadata only: no storage key, nothing of the file's bytes.
    assert "storage_key" not in text and bucket.keys()[0] not in text
    async with documents.app[DATABASE].sessions() as session:
        journaled = [
            m.message
            for m in await session.scalars(
                select(OutboxMessage).where(OutboxMessage.event_type == "family.exported")
            )
            if m.message["family_id"] == mine
        ]
    assert [e["data"] for e in journaled] == [
        {"family_id": mine, "by": f"parent-{mine[:8]}", "role": "family", "part": "documents"}
    ]


async def test_staff_export_a_family_and_another_familys_id_is_a_404(
    documents, signer: TestSigner
) -> None:
    mine, theirs = new_family(), new_family()

    foreign = await documents.get(f"/families/{theirs}/export", headers=parent(signer, mine))
    assert foreign.status == 404
    assert foreign.content_type == "application/problem+json"
    too_long = await documents.get(f"/families/{'x' * 65}/export", headers=staff(signer))
    assert too_long.status == 404
    assert (await documents.get(f"/families/{mine}/export")).status == 401
    by_staff = await documents.get(f"/families/{theirs}/export", headers=staff(signer))
    assert by_staff.status == 200
    assert (await by_staff.json())["submissions"] == []
