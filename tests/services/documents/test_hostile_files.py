"""The hostile-file corpus: every one refused with a clear French message, nothing stored."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from services.documents.models import Submission
from services.kit.keys import DATABASE
from services.kit.testing import TestSigner

from . import files
from .api import create_type, multipart, new_family, parent, upload

CORPUS = [
    ("elf executable renamed .pdf", "facture.pdf", files.ELF, "programme exécutable"),
    ("windows executable renamed .pdf", "vaccins.pdf", files.PE, "exécutable Windows"),
    ("html with script", "page.pdf", files.HTML, "page HTML"),
    ("svg with script", "image.png", files.SVG, "image SVG"),
    ("pdf+zip polyglot", "poly.pdf", files.pdf_zip_polyglot(), "archive ZIP cachée"),
    ("zip archive", "documents.pdf", files.zip_archive(), "archive compressée"),
    ("double extension", "x.pdf.exe", files.pdf(), "extension est .exe"),
    ("executable double extension", "x.pdf.exe", files.PE, "exécutable"),
    ("null byte in name", "vaccins.pdf\x00.exe", files.pdf(), "caractère nul"),
    ("control character in name", "vac\x1bcins.pdf", files.pdf(), "caractères de contrôle"),
    ("backslash path in name", "..\\..\\boot.pdf", files.pdf(), "séparateur de dossier"),
    ("pdf with javascript", "js.pdf", files.pdf_with_javascript(), "/JavaScript"),
    ("pdf with open action", "open.pdf", files.pdf_with_open_action(), "/OpenAction"),
    ("pdf with embedded file", "pj.pdf", files.pdf_with_embedded_file(), "/EmbeddedFile"),
    ("empty file", "vide.pdf", b"", "est vide"),
    ("truncated pdf", "coupe.pdf", files.pdf()[:200], "endommagé"),
    ("png named jpg", "photo.jpg", files.png(), "extension est .jpg"),
    ("corrupt png", "casse.png", files.png()[:40], "illisible"),
]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [pytest.param(n, c, e, id=label) for label, n, c, e in CORPUS],
)
async def test_hostile_file_is_refused_and_nothing_is_kept(
    documents, bucket, signer: TestSigner, name: str, content: bytes, expected: str
) -> None:
    family = new_family()
    kind = await create_type(documents, signer)

    response = await upload(
        documents, parent(signer, family), family, kind["id"], [(name, content)]
    )

    assert response.status == 422, await response.text()
    problem = await response.json()
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert problem["type"].endswith("/file-refused")
    assert expected in problem["detail"]
    assert bucket.keys() == []
    async with documents.app[DATABASE].sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Submission)) == 0


async def test_one_bad_file_among_good_ones_refuses_the_whole_upload(
    documents, bucket, signer: TestSigner
) -> None:
    family = new_family()
    kind = await create_type(documents, signer)
    response = await upload(
        documents,
        parent(signer, family),
        family,
        kind["id"],
        [("recto.pdf", files.pdf()), ("verso.pdf", files.pdf_with_javascript())],
    )
    assert response.status == 422
    assert "verso.pdf" in (await response.json())["detail"]
    assert bucket.keys() == []


async def test_oversized_upload_with_a_declared_length_is_refused_at_once(
    make_documents, bucket_of, signer: TestSigner
) -> None:
    documents = await make_documents(max_upload_bytes=256 * 1024)
    bucket = bucket_of(documents)
    family = new_family()
    kind = await create_type(documents, signer)
    big = files.pdf() + b"%" + b"A" * (2 * 1024 * 1024)

    response = await upload(
        documents, parent(signer, family), family, kind["id"], [("gros.pdf", big)]
    )

    assert response.status == 413
    detail = (await response.json())["detail"]
    assert "dépassent la taille autorisée" in detail
    assert bucket.keys() == []


async def test_oversized_streamed_upload_is_cut_while_reading(
    make_documents, bucket_of, signer: TestSigner
) -> None:
    documents = await make_documents(max_upload_bytes=256 * 1024)
    bucket = bucket_of(documents)
    family = new_family()
    kind = await create_type(documents, signer)
    body, content_type = multipart([("gros.pdf", b"%PDF-1.4\n" + b"A" * (3 * 1024 * 1024))])
    sent = 0

    async def chunked():  # no Content-Length: the server must count as it reads
        nonlocal sent
        for start in range(0, len(body), 64 * 1024):
            sent += 64 * 1024
            yield body[start : start + 64 * 1024]

    response = await documents.post(
        f"/families/{family}/documents/{kind['id']}/files",
        data=chunked(),
        headers={**parent(signer, family), "Content-Type": content_type},
    )

    assert response.status == 413
    assert "taille autorisée" in (await response.json())["detail"]
    assert bucket.keys() == []


async def test_too_many_files_and_no_file_are_refused(documents, signer: TestSigner) -> None:
    family = new_family()
    kind = await create_type(documents, signer)
    many = await upload(
        documents,
        parent(signer, family),
        family,
        kind["id"],
        [(f"{i}.pdf", files.pdf()) for i in range(5)],
    )
    body, content_type = multipart([])
    none = await documents.post(
        f"/families/{family}/documents/{kind['id']}/files",
        data=body,
        headers={**parent(signer, family), "Content-Type": content_type},
    )
    as_json = await documents.post(
        f"/families/{family}/documents/{kind['id']}/files",
        json={"file": "x"},
        headers=parent(signer, family),
    )
    assert many.status == 422 and "4 fichiers au plus" in (await many.json())["detail"]
    assert none.status == 422 and "Aucun fichier" in (await none.json())["detail"]
    assert as_json.status == 415


async def test_a_replica_holds_a_bounded_amount_of_uploads_at_once(
    make_documents, bucket_of, signer: TestSigner
) -> None:
    # Room for one 256 KiB upload (three times its size) at a time; a second waits 0.3 s.
    documents = await make_documents(
        max_upload_bytes=256 * 1024, upload_memory_budget_bytes=768 * 1024, upload_wait_seconds=0.3
    )
    family = new_family()
    kind = await create_type(documents, signer)
    url = f"/families/{family}/documents/{kind['id']}/files"
    body, content_type = multipart([("lent.pdf", files.pdf())])
    release = asyncio.Event()

    async def slow_body():  # a slow client: the first part, then nothing until released
        yield body[:100]
        await release.wait()
        yield body[100:]

    headers = {**parent(signer, family), "Content-Type": content_type}
    slow = asyncio.create_task(documents.post(url, data=slow_body(), headers=headers))
    await asyncio.sleep(0.3)
    quick_body, quick_type = multipart([("rapide.pdf", files.pdf())])
    busy = await documents.post(
        url, data=quick_body, headers={**parent(signer, family), "Content-Type": quick_type}
    )
    release.set()
    finished = await slow

    assert busy.status == 429
    assert busy.headers["Retry-After"] == "5"
    assert "réessayez dans quelques secondes" in (await busy.json())["detail"]
    assert finished.status == 201
    after = await documents.post(
        url, data=quick_body, headers={**parent(signer, family), "Content-Type": quick_type}
    )
    assert after.status == 201
    assert len(bucket_of(documents).keys()) == 2


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"no boundary declared"),
        ("multipart/form-data; boundary=xyz", b"garbage without the boundary"),
        ("multipart/form-data; boundary=xyz", b"--xyz\r\nContent-Disposition: form-data"),
    ],
)
async def test_a_broken_multipart_body_is_a_400_not_a_500(
    documents, signer: TestSigner, content_type: str, body: bytes
) -> None:
    family = new_family()
    kind = await create_type(documents, signer)
    response = await documents.post(
        f"/families/{family}/documents/{kind['id']}/files",
        data=body,
        headers={**parent(signer, family), "Content-Type": content_type},
    )
    assert response.status == 400, await response.text()
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert "multipart/form-data" in (await response.json())["detail"]
    async with documents.app[DATABASE].sessions() as session:
        stored = await session.scalar(
            select(func.count()).select_from(Submission).where(Submission.family_id == family)
        )
    assert stored == 0
