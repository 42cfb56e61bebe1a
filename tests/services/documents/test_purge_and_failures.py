"""Retention purge removes rows and objects together; failures leave no orphan, no half record."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from services.documents.keys import STORAGE
from services.documents.maintenance import purge
from services.documents.models import Submission, SubmissionFile
from services.kit.keys import DATABASE
from services.kit.outbox import utcnow
from services.kit.testing import TestSigner

from . import files
from .api import create_type, new_family, parent, staff, upload


async def _count(documents, model) -> int:
    async with documents.app[DATABASE].sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_purge_removes_what_is_past_retention_rows_and_objects_together(
    documents, bucket, signer: TestSigner
) -> None:
    family = new_family()
    kind = await create_type(documents, signer, validity_days=365)
    headers = parent(signer, family)
    refused = await (
        await upload(
            documents, headers, family, kind["id"], [("r.pdf", files.pdf()), ("v.png", files.png())]
        )
    ).json()
    kept = await (
        await upload(documents, headers, family, kind["id"], [("k.pdf", files.pdf())])
    ).json()
    await documents.post(
        f"/submissions/{refused['id']}/refuse", json={"reason": "illisible"}, headers=staff(signer)
    )
    await documents.post(f"/submissions/{kept['id']}/accept", json={}, headers=staff(signer))
    assert len(bucket.keys()) == 3
    app = documents.app

    today = await purge(app[DATABASE], app[STORAGE])
    assert today.submissions == 0 and len(bucket.keys()) == 3

    later = await purge(app[DATABASE], app[STORAGE], now=utcnow() + timedelta(days=91))

    assert (later.submissions, later.objects) == (1, 2)
    assert len(bucket.keys()) == 1
    assert await _count(documents, Submission) == 1
    assert await _count(documents, SubmissionFile) == 1
    much_later = await purge(
        app[DATABASE], app[STORAGE], now=utcnow() + timedelta(days=2 * 365 + 2)
    )
    assert much_later.submissions == 1
    assert bucket.keys() == []
    assert await _count(documents, SubmissionFile) == 0


async def test_the_sweep_deletes_objects_without_rows_once_past_the_grace_period(
    documents, bucket, signer: TestSigner
) -> None:
    family = new_family()
    kind = await create_type(documents, signer)
    await upload(documents, parent(signer, family), family, kind["id"], [("a.pdf", files.pdf())])
    bucket.put("submissions/left-by-a-crash", b"%PDF-orphan")
    app = documents.app

    now = await purge(app[DATABASE], app[STORAGE])
    assert now.orphans == 0 and len(bucket.keys()) == 2  # an upload in flight is never touched

    later = await purge(app[DATABASE], app[STORAGE], now=utcnow() + timedelta(hours=2))
    assert later.orphans == 1
    assert "submissions/left-by-a-crash" not in bucket.keys()
    assert len(bucket.keys()) == 1


async def test_s3_unreachable_answers_503_and_records_nothing(
    make_documents, signer: TestSigner
) -> None:
    documents = await make_documents(s3_endpoint_url="http://127.0.0.1:9", s3_timeout_seconds=1)
    family = new_family()
    kind = await create_type(documents, signer)

    response = await upload(
        documents, parent(signer, family), family, kind["id"], [("a.pdf", files.pdf())]
    )
    ready = await documents.get("/readyz")

    assert response.status == 503
    assert "rien n'a été enregistré" in (await response.json())["detail"]
    assert await _count(documents, Submission) == 0
    assert ready.status == 503
    assert (await ready.json())["checks"]["s3"] != "ok"


async def test_a_failed_commit_deletes_the_objects_it_stored(
    documents, bucket, signer: TestSigner
) -> None:
    family = new_family()
    kind = await create_type(documents, signer)
    # A subject longer than its column: the insert fails after the objects were stored.
    headers = signer.headers(families=[family], subject="s" * 100)

    response = await upload(documents, headers, family, kind["id"], [("a.pdf", files.pdf())])

    assert response.status == 500
    assert bucket.keys() == []
    assert await _count(documents, Submission) == 0


async def test_the_worker_task_purges_with_settings_from_the_environment(
    documents, bucket, signer: TestSigner, monkeypatch
) -> None:
    from portail.worker import WorkerSettings, create_worker_app
    from services.documents.keys import DOCUMENTS_SETTINGS

    settings = documents.app[DOCUMENTS_SETTINGS]
    monkeypatch.setenv("DOCUMENTS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("S3_ENDPOINT_URL", settings.s3_endpoint_url)
    monkeypatch.setenv("S3_BUCKET", settings.s3_bucket)
    monkeypatch.setenv("DOCUMENTS_ORPHAN_GRACE_SECONDS", "0")
    bucket.put("org/orphan-of-a-crash", b"x")
    worker = create_worker_app(WorkerSettings(redis_url="redis://127.0.0.1:1/0"))
    assert "documents-purge" in worker.conf.beat_schedule

    report = await asyncio.to_thread(worker.tasks["documents.purge"])

    assert report["orphans"] == 1
    assert bucket.keys() == []


async def test_purge_in_small_batches_keeps_each_submission_whole(
    documents, bucket, signer: TestSigner, monkeypatch
) -> None:
    from services.documents import maintenance

    monkeypatch.setattr(maintenance, "PURGE_BATCH", 1)
    family = new_family()
    kind = await create_type(documents, signer)
    for _ in range(3):
        sent = await (
            await upload(
                documents,
                parent(signer, family),
                family,
                kind["id"],
                [("recto.pdf", files.pdf()), ("verso.png", files.png())],
            )
        ).json()
        await documents.post(
            f"/submissions/{sent['id']}/refuse", json={"reason": "flou"}, headers=staff(signer)
        )
    app = documents.app

    report = await purge(app[DATABASE], app[STORAGE], now=utcnow() + timedelta(days=91))

    assert (report.submissions, report.objects, report.orphans) == (3, 6, 0)
    assert bucket.keys() == []
