"""A family sends its documents; they are stored encrypted under server keys and listed."""

from __future__ import annotations

import hashlib
import io
from urllib.parse import unquote

from PIL import Image
from sqlalchemy import select

from services.documents.models import OutboxMessage
from services.kit.keys import DATABASE
from services.kit.testing import TestSigner

from . import files
from .api import create_type, new_family, parent, staff, upload


async def test_a_family_sends_a_pdf_and_sees_it_waiting_for_validation(
    documents, bucket, signer: TestSigner
) -> None:
    family = new_family()
    kind = await create_type(documents, signer, name="Attestation d'assurance", mandatory=True)
    content = files.pdf()

    response = await upload(
        documents, parent(signer, family), family, kind["id"], [("assurance.pdf", content)]
    )

    assert response.status == 201, await response.text()
    submission = await response.json()
    assert submission["state"] == "pending"
    assert submission["state_label"] == "En attente de validation"
    assert [f["name"] for f in submission["files"]] == ["assurance.pdf"]
    listed = await (
        await documents.get(f"/families/{family}/documents", headers=parent(signer, family))
    ).json()
    item = next(d for d in listed["family"] if d["document_type_id"] == kind["id"])
    assert item["state"] == "pending"
    assert item["submission"]["id"] == submission["id"]


async def test_objects_are_encrypted_private_and_keyed_by_the_server(
    documents, bucket, signer: TestSigner
) -> None:
    family = new_family()
    kind = await create_type(documents, signer)
    content = files.pdf()

    response = await upload(
        documents, parent(signer, family), family, kind["id"], [("../../etc/passwd.pdf", content)]
    )
    assert response.status == 422  # a path in the name is refused outright
    response = await upload(
        documents, parent(signer, family), family, kind["id"], [("Relevé été.pdf", content)]
    )
    assert response.status == 201

    (key,) = bucket.keys()
    assert key.startswith("submissions/")
    assert "Relev" not in key and family not in key
    assert bucket.head(key)["ServerSideEncryption"] == "AES256"
    assert bucket.get(key) == content
    acl = bucket.client.get_bucket_acl(Bucket=bucket.name)
    assert all("AllUsers" not in str(grant["Grantee"]) for grant in acl["Grants"])


async def test_download_is_an_attachment_that_cannot_run_in_the_browser(
    documents, signer: TestSigner
) -> None:
    family = new_family()
    kind = await create_type(documents, signer)
    content = files.pdf()
    name = 'Vaccins "Léa"; x=1.pdf'
    submission = await (
        await upload(documents, parent(signer, family), family, kind["id"], [(name, content)])
    ).json()
    file_id = submission["files"][0]["id"]

    response = await documents.get(
        f"/families/{family}/submissions/{submission['id']}/files/{file_id}",
        headers=parent(signer, family),
    )

    assert response.status == 200
    assert await response.read() == content
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert "no-store" in response.headers["Cache-Control"]
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    fallback = disposition.split('filename="', 1)[1].split('"', 1)[0]
    assert '"' not in fallback and ";" not in fallback
    assert unquote(disposition.split("filename*=UTF-8''", 1)[1]) == name
    # Staff may download it too.
    by_staff = await documents.get(
        f"/families/{family}/submissions/{submission['id']}/files/{file_id}",
        headers=staff(signer),
    )
    assert by_staff.status == 200
    async with documents.app[DATABASE].sessions() as session:
        journal = [
            m.message
            for m in await session.scalars(
                select(OutboxMessage).where(OutboxMessage.event_type == "document.downloaded")
            )
        ]
    assert sorted((e["data"]["by_role"], e["family_id"]) for e in journal) == [
        ("family", family),
        ("staff", family),
    ]


async def test_front_and_back_in_one_submission(documents, bucket, signer: TestSigner) -> None:
    family = new_family()
    kind = await create_type(documents, signer, name="Carte d'identité")
    response = await upload(
        documents,
        parent(signer, family),
        family,
        kind["id"],
        [("recto.jpg", files.jpeg_with_exif()), ("verso.png", files.png())],
    )
    assert response.status == 201, await response.text()
    submission = await response.json()
    assert [f["name"] for f in submission["files"]] == ["recto.jpg", "verso.png"]
    assert [f["content_type"] for f in submission["files"]] == ["image/jpeg", "image/png"]
    assert len(bucket.keys()) == 2


async def test_images_are_reencoded_without_metadata_or_trailing_data(
    documents, bucket, signer: TestSigner
) -> None:
    family = new_family()
    kind = await create_type(documents, signer)
    tagged = files.jpeg_with_exif(b"GPS 43.39N 1.30W")
    smuggled = files.png(trailer=b"<script>alert(1)</script>")

    for name, data in (("photo.jpg", tagged), ("scan.png", smuggled)):
        response = await upload(
            documents, parent(signer, family), family, kind["id"], [(name, data)]
        )
        assert response.status == 201, await response.text()

    stored = [bucket.get(k) for k in bucket.keys()]
    assert all(b"GPS 43.39N" not in s and b"<script>" not in s for s in stored)
    for data in stored:
        with Image.open(io.BytesIO(data)) as image:
            assert image.size == (40, 30)
            assert not image.getexif()
    assert hashlib.sha256(tagged).hexdigest() not in {hashlib.sha256(s).hexdigest() for s in stored}


async def test_a_child_document_is_sent_for_a_member_of_the_family(
    documents, members, signer: TestSigner
) -> None:
    _, directory = members
    family = new_family()
    child = directory.add(family, "Enfant", role="child")
    directory.add(family, "Parent", role="responsable")
    kind = await create_type(
        documents, signer, name="Photocopie des vaccinations", concerns="child", mandatory=True
    )

    response = await upload(
        documents, parent(signer, family), family, kind["id"], [("vaccins.pdf", files.pdf())], child
    )
    assert response.status == 201, await response.text()
    assert (await response.json())["person_name"] == "Enfant TEST"

    listed = await (
        await documents.get(f"/families/{family}/documents", headers=parent(signer, family))
    ).json()
    assert [m["name"] for m in listed["members"]] == ["Enfant TEST"]  # the parent has none
    (item,) = listed["members"][0]["documents"]
    assert (item["name"], item["state_label"]) == (
        "Photocopie des vaccinations",
        "En attente de validation",
    )


async def test_person_rules_are_enforced_with_precise_messages(
    documents, members, signer: TestSigner
) -> None:
    _, directory = members
    family, other = new_family(), new_family()
    adult = directory.add(family, "Parent", role="responsable")
    foreign_child = directory.add(other, "Voisin", role="child")
    child_kind = await create_type(documents, signer, concerns="child")
    family_kind = await create_type(documents, signer, concerns="family")
    headers = parent(signer, family)
    sent = [("doc.pdf", files.pdf())]

    someone_elses = await upload(documents, headers, family, child_kind["id"], sent, foreign_child)
    not_a_child = await upload(documents, headers, family, child_kind["id"], sent, adult)
    nobody = await upload(documents, headers, family, child_kind["id"], sent)
    person_on_family_doc = await upload(documents, headers, family, family_kind["id"], sent, adult)

    assert someone_elses.status == 404
    assert "ne fait pas partie" in (await someone_elses.json())["detail"]
    assert not_a_child.status == 422
    assert "enfants" in (await not_a_child.json())["detail"]
    assert nobody.status == 422
    assert "précisez" in (await nobody.json())["detail"]
    assert person_on_family_doc.status == 422


async def test_members_unreachable_fails_closed_for_person_uploads(
    documents, members, bucket, signer: TestSigner
) -> None:
    _, directory = members
    family = new_family()
    child = directory.add(family, "Enfant")
    kind = await create_type(documents, signer, concerns="child")
    directory.down = True

    response = await upload(
        documents, parent(signer, family), family, kind["id"], [("v.pdf", files.pdf())], child
    )
    listed = await documents.get(f"/families/{family}/documents", headers=parent(signer, family))

    assert response.status == 503
    assert "indisponible" in (await response.json())["detail"]
    assert bucket.keys() == []
    assert listed.status == 200
    assert (await listed.json())["partial"] is True


async def test_accepted_formats_of_the_type_are_enforced(documents, signer: TestSigner) -> None:
    family = new_family()
    kind = await create_type(documents, signer, accepted_formats=["pdf"])
    response = await upload(
        documents, parent(signer, family), family, kind["id"], [("photo.png", files.png())]
    )
    assert response.status == 422
    assert "attendu au format : PDF" in (await response.json())["detail"]


async def test_unknown_or_inactive_type_answers_404(documents, signer: TestSigner) -> None:
    family = new_family()
    kind = await create_type(documents, signer, active=False)
    for type_id in (kind["id"], "no-such-type"):
        response = await upload(
            documents, parent(signer, family), family, type_id, [("a.pdf", files.pdf())]
        )
        assert response.status == 404
