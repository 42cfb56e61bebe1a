"""Schemathesis against the documents service, with the real families service behind the
real gateway for the members it reads (promise 29)."""

from __future__ import annotations

import uuid

from services.kit.testing import TestSigner

from .conftest import assert_conforms, base_url, create_family, identities, run_against


async def test_documents_answers_generated_input_as_documented(
    service_client, gateway, s3_endpoint: str, signer: TestSigner
) -> None:
    families = await service_client("families")
    family_id, person_id = await create_family(families, signer)
    front = await gateway({"families": base_url(families)})
    documents = await service_client(
        "documents",
        gateway_url=base_url(front),
        s3_endpoint_url=s3_endpoint,
        s3_bucket=f"contract-{uuid.uuid4().hex[:12]}",
    )
    staff = identities(signer, family_id)["staff"]
    kind = await documents.post(
        "/document-types", json={"name": "Attestation CONTRAT"}, headers=staff
    )
    assert kind.status == 201, await kind.text()
    published = await documents.post(
        "/org-documents", json={"title": "Règlement", "category": "Règlement"}, headers=staff
    )
    assert published.status == 201, await published.text()
    known = {
        "family_id": family_id,
        "person_id": person_id,
        "type_id": (await kind.json())["id"],
        "document_id": (await published.json())["id"],
    }

    report = await run_against(documents, signer, family_id, known)

    assert_conforms(report)
