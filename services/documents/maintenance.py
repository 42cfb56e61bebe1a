"""Nightly retention purge, orphan sweep, and antivirus retries.

The purge deletes the objects first, then the rows, batch by batch: if S3 fails, the rows
stay and the next run tries again (deleting a missing object is not an error); if the
database fails after S3, the rows point at nothing for a night and go the next run. Either
way no object outlives its row. The sweep removes objects that have no row at all (a crash
between storing and committing), once they are older than a grace period so that an upload
in flight is never touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import delete, select

from services.kit.database import Database
from services.kit.outbox import utcnow

from .antivirus import Clamd
from .models import SCANNING, OrgDocument, Submission, SubmissionFile
from .storage import ORG_PREFIX, SUBMISSIONS_PREFIX, Storage
from .workflow import scan

log = structlog.get_logger(__name__)
PURGE_BATCH = 200


@dataclass(frozen=True)
class PurgeReport:
    """What one purge run removed."""

    submissions: int
    objects: int
    orphans: int


async def purge(
    database: Database, storage: Storage, *, now: datetime | None = None, orphan_grace: int = 3600
) -> PurgeReport:
    """Delete submissions past retention with their objects, then orphan objects."""
    now = now or utcnow()
    submissions = objects = 0
    while True:
        async with database.sessions() as session:
            # Whole submissions per batch (ids first), so that no file of one is left behind.
            ids = list(
                await session.scalars(
                    select(Submission.id)
                    .where(Submission.purge_after.is_not(None), Submission.purge_after <= now)
                    .order_by(Submission.purge_after)
                    .limit(PURGE_BATCH)
                )
            )
            keys = list(
                await session.scalars(
                    select(SubmissionFile.storage_key).where(SubmissionFile.submission_id.in_(ids))
                )
            )
        if not ids:
            break
        await storage.delete(keys)
        async with database.transaction() as session:
            await session.execute(
                delete(SubmissionFile).where(SubmissionFile.submission_id.in_(ids))
            )
            await session.execute(delete(Submission).where(Submission.id.in_(ids)))
        submissions += len(ids)
        objects += len(keys)
    orphans = await sweep_orphans(database, storage, now=now, grace_seconds=orphan_grace)
    report = PurgeReport(submissions, objects, orphans)
    log.info("documents_purged", **report.__dict__)
    return report


async def sweep_orphans(
    database: Database, storage: Storage, *, now: datetime, grace_seconds: int
) -> int:
    """Delete objects older than the grace period that no row references."""
    cutoff = now - timedelta(seconds=grace_seconds)
    listed = [
        o
        for prefix in (SUBMISSIONS_PREFIX, ORG_PREFIX)
        for o in await storage.list_objects(prefix)
        if o.last_modified <= cutoff
    ]
    if not listed:
        return 0
    async with database.sessions() as session:
        known = set(await session.scalars(select(SubmissionFile.storage_key)))
        known |= {
            k for k in await session.scalars(select(OrgDocument.storage_key)) if k is not None
        }
    orphans = [o.key for o in listed if o.key not in known]
    if orphans:
        await storage.delete(orphans)
        log.warning("documents_orphans_deleted", count=len(orphans))
    return len(orphans)


async def rescan(database: Database, storage: Storage, clamd: Clamd, *, limit: int = 50) -> int:
    """Try again the submissions still waiting for a verdict; returns how many got one."""
    async with database.sessions() as session:
        waiting = list(
            await session.scalars(
                select(Submission)
                .where(Submission.state == SCANNING)
                .order_by(Submission.submitted_at)
                .limit(limit)
            )
        )
    decided = 0
    for submission in waiting:
        contents = [await storage.read(f.storage_key) for f in submission.files]
        if await scan(database, storage, clamd, submission.id, contents) != SCANNING:
            decided += 1
    return decided
