"""Documentation structure: staff publish, families list and download within the dates."""

from __future__ import annotations

from datetime import timedelta

from services.kit.outbox import utcnow
from services.kit.testing import TestSigner

from . import files
from .api import create_type, multipart, new_family, parent, staff


async def _publish(documents, signer, content: bytes, name: str, **fields) -> dict:
    body = {"title": "Règlement intérieur", "category": "Règlement", **fields}
    created = await documents.post("/org-documents", json=body, headers=staff(signer))
    assert created.status == 201, await created.text()
    document = await created.json()
    payload, content_type = multipart([(name, content)])
    attached = await documents.post(
        f"/org-documents/{document['id']}/files",
        data=payload,
        headers={**staff(signer), "Content-Type": content_type},
    )
    assert attached.status == 200, await attached.text()
    return dict(await attached.json())


async def test_staff_publish_and_families_download(documents, bucket, signer: TestSigner) -> None:
    family = new_family()
    form = await create_type(documents, signer, name="Fiche sanitaire")
    content = files.pdf(pages=2)
    published = await _publish(
        documents,
        signer,
        content,
        "Fiche sanitaire 2026.pdf",
        title="Fiche sanitaire",
        category="Formulaires",
        description="À remplir et à nous retourner.",
        to_return=True,
        document_type_id=form["id"],
    )

    listed = await (await documents.get("/org-documents", headers=parent(signer, family))).json()
    (item,) = listed["items"]
    assert item["title"] == "Fiche sanitaire"
    assert item["to_return"] is True
    assert item["document_type_id"] == form["id"]
    assert item["file_name"] == "Fiche sanitaire 2026.pdf"
    download = await documents.get(
        f"/org-documents/{published['id']}/file", headers=parent(signer, family)
    )
    assert download.status == 200
    assert await download.read() == content
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    (key,) = bucket.keys()
    assert key.startswith("org/")
    assert bucket.head(key)["ServerSideEncryption"] == "AES256"


async def test_publication_dates_decide_what_families_see(documents, signer: TestSigner) -> None:
    family = new_family()
    now = utcnow()
    await _publish(documents, signer, files.pdf(), "menus.pdf", title="Menus de mars")
    await _publish(
        documents,
        signer,
        files.pdf(),
        "futur.pdf",
        title="Menus d'avril",
        published_at=(now + timedelta(days=3)).isoformat(),
    )
    await _publish(
        documents,
        signer,
        files.pdf(),
        "ancien.pdf",
        title="Menus de janvier",
        published_at=(now - timedelta(days=60)).isoformat(),
        published_until=(now - timedelta(days=30)).isoformat(),
    )
    await documents.post(
        "/org-documents", json={"title": "Sans fichier", "category": "X"}, headers=staff(signer)
    )

    listed = await (await documents.get("/org-documents", headers=parent(signer, family))).json()
    everything = await (await documents.get("/staff/org-documents", headers=staff(signer))).json()
    tiles = await (
        await documents.get(f"/dashboard/{family}", headers=parent(signer, family))
    ).json()

    assert [d["title"] for d in listed["items"]] == ["Menus de mars"]
    assert len(everything["items"]) == 4
    assert tiles["documentation"] == {"count": 1}


async def test_replacing_and_withdrawing_leave_no_object_behind(
    documents, bucket, signer: TestSigner
) -> None:
    published = await _publish(documents, signer, files.pdf(), "v1.pdf")
    payload, content_type = multipart([("v2.png", files.png())])
    replaced = await documents.post(
        f"/org-documents/{published['id']}/files",
        data=payload,
        headers={**staff(signer), "Content-Type": content_type},
    )
    assert (await replaced.json())["file_name"] == "v2.png"
    assert len(bucket.keys()) == 1

    deleted = await documents.delete(f"/org-documents/{published['id']}", headers=staff(signer))

    assert deleted.status == 204
    assert bucket.keys() == []
    gone = await documents.get(f"/org-documents/{published['id']}/file", headers=staff(signer))
    assert gone.status == 404


async def test_staff_files_are_checked_like_families(documents, bucket, signer: TestSigner) -> None:
    created = await (
        await documents.post(
            "/org-documents", json={"title": "Menus", "category": "Menus"}, headers=staff(signer)
        )
    ).json()
    payload, content_type = multipart([("menus.pdf", files.pdf_with_javascript())])
    response = await documents.post(
        f"/org-documents/{created['id']}/files",
        data=payload,
        headers={**staff(signer), "Content-Type": content_type},
    )
    assert response.status == 422
    assert bucket.keys() == []


async def test_document_types_editor(documents, signer: TestSigner) -> None:
    created = await create_type(
        documents,
        signer,
        name="Photocopie des vaccinations",
        help_text="Les pages du carnet de santé avec les vaccins.",
        concerns="child",
        mandatory=True,
        validity_days=365,
        accepted_formats=["pdf", "jpeg"],
        activity_ids=["alsh", "alsh"],
    )
    assert created["activity_ids"] == ["alsh"]
    duplicate = await documents.post(
        "/document-types", json={"name": "Photocopie des vaccinations"}, headers=staff(signer)
    )
    invalid = await documents.post(
        "/document-types",
        json={"name": "X", "concerns": "religion", "accepted_formats": ["exe"]},
        headers=staff(signer),
    )
    changed = await documents.patch(
        f"/document-types/{created['id']}", json={"active": False}, headers=staff(signer)
    )
    visible = await (await documents.get("/document-types", headers=parent(signer, "f"))).json()
    for_staff = await (
        await documents.get("/document-types?all=true", headers=staff(signer))
    ).json()

    assert duplicate.status == 409
    assert "existe déjà" in (await duplicate.json())["detail"]
    assert invalid.status == 422
    assert {e["field"] for e in (await invalid.json())["errors"]} >= {
        "concerns",
        "accepted_formats.0",
    }
    assert (await changed.json())["active"] is False
    assert visible["items"] == []
    assert [t["name"] for t in for_staff["items"]] == ["Photocopie des vaccinations"]


async def test_publication_dates_must_be_in_order(documents, signer: TestSigner) -> None:
    response = await documents.post(
        "/org-documents",
        json={
            "title": "Menus",
            "category": "Menus",
            "published_at": "2026-03-01T00:00:00Z",
            "published_until": "2026-02-01T00:00:00Z",
        },
        headers=staff(signer),
    )
    assert response.status == 422


async def test_a_null_description_clears_it_and_unknown_ids_answer_404(
    documents, signer: TestSigner
) -> None:
    body = {"title": "Menus", "category": "Menus", "description": "Semaine 12"}
    created = await documents.post("/org-documents", json=body, headers=staff(signer))
    document = await created.json()

    # Found by schemathesis: a null description reached the NOT NULL column (a 500).
    cleared = await documents.patch(
        f"/org-documents/{document['id']}", json={"description": None}, headers=staff(signer)
    )
    assert cleared.status == 200, await cleared.text()
    assert (await cleared.json())["description"] == ""
    missing = await documents.delete("/org-documents/no-such-document", headers=staff(signer))
    assert missing.status == 404
    assert missing.content_type == "application/problem+json"
