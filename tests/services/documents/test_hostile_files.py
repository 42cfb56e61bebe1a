"""The hostile-file corpus: every one refused with a clear French message, nothing stored."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from services.documents.models import Submission
from services.kit.keys import DATABASE
from services.kit.testing import TestSigner

from . import files
from .api import multipart, new_document

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
    document = await new_document(documents, signer)

    response = await document.send([(name, content)])

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
    document = await new_document(documents, signer)
    response = await document.send(
        [("recto.pdf", files.pdf()), ("verso.pdf", files.pdf_with_javascript())]
    )
    assert response.status == 422
    assert "verso.pdf" in (await response.json())["detail"]
    assert bucket.keys() == []


async def test_oversized_upload_with_a_declared_length_is_refused_at_once(
    make_documents, bucket_of, signer: TestSigner
) -> None:
    documents = await make_documents(max_upload_bytes=256 * 1024)
    bucket = bucket_of(documents)
    document = await new_document(documents, signer)
    big = files.pdf() + b"%" + b"A" * (2 * 1024 * 1024)

    response = await document.send([("gros.pdf", big)])

    assert response.status == 413
    detail = (await response.json())["detail"]
    assert "dépassent la taille autorisée" in detail
    assert bucket.keys() == []


async def test_oversized_streamed_upload_is_cut_while_reading(
    make_documents, bucket_of, signer: TestSigner
) -> None:
    documents = await make_documents(max_upload_bytes=256 * 1024)
    bucket = bucket_of(documents)
    document = await new_document(documents, signer)
    body, content_type = multipart([("gros.pdf", b"%PDF-1.4\n" + b"A" * (3 * 1024 * 1024))])
    sent = 0

    async def chunked():  # no Content-Length: the server must count as it reads
        nonlocal sent
        for start in range(0, len(body), 64 * 1024):
            sent += 64 * 1024
            yield body[start : start + 64 * 1024]

    response = await document.send_body(chunked(), content_type)

    assert response.status == 413
    assert "taille autorisée" in (await response.json())["detail"]
    assert bucket.keys() == []


async def test_too_many_files_and_no_file_are_refused(documents, signer: TestSigner) -> None:
    document = await new_document(documents, signer)
    many = await document.send([(f"{i}.pdf", files.pdf()) for i in range(5)])
    none = await document.send_body(*multipart([]))
    as_json = await documents.post(document.url, json={"file": "x"}, headers=document.headers)
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
    document = await new_document(documents, signer)
    body, content_type = multipart([("lent.pdf", files.pdf())])
    release = asyncio.Event()

    async def slow_body():  # a slow client: the first part, then nothing until released
        yield body[:100]
        await release.wait()
        yield body[100:]

    slow = asyncio.create_task(document.send_body(slow_body(), content_type))
    await asyncio.sleep(0.3)
    quick = multipart([("rapide.pdf", files.pdf())])
    busy = await document.send_body(*quick)
    release.set()
    finished = await slow

    assert busy.status == 429
    assert busy.headers["Retry-After"] == "5"
    assert "réessayez dans quelques secondes" in (await busy.json())["detail"]
    assert finished.status == 201
    after = await document.send_body(*quick)
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
    document = await new_document(documents, signer)
    response = await document.send_body(body, content_type)
    assert response.status == 400, await response.text()
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert "multipart/form-data" in (await response.json())["detail"]
    async with documents.app[DATABASE].sessions() as session:
        stored = await session.scalar(
            select(func.count())
            .select_from(Submission)
            .where(Submission.family_id == document.family_id)
        )
    assert stored == 0
